export * from './customer-web-tier';
export * from './ingress';
export * from './database-options';
