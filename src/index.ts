export * from './config';
export * from './platform';
export * from './shared-alb-rule';
export * from './web-tier';
export * from './pipeline-common';
export * from './ami-pipeline';
export * from './delivery-pipeline';
export * from './environment';
