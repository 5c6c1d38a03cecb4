export * from './config';
export * from './platform';
export * from './shared-alb-rule';
export * from './web-tier';
