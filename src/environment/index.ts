export * from './customer-environment';
export * from './vending-fleet';
