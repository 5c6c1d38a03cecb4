export * from './customer-web-tier';
export * from './ingress';
