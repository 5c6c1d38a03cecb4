export * from './customer-web-tier';
export * from './ingress';
export * from './database-options';
export * from './environment-health';
