export * from './types';
export type { ConfigProblem } from './errors';
export { ConfigLoader } from './loader';
export type { CustomerLoadOptions } from './loader';
