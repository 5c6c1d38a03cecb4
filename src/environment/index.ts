export * from './customer-environment';
export * from './vending-fleet';
export type { FleetPlacement } from './placement';
