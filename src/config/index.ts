export * from './types';
export type { ConfigProblem } from './errors';
export { ConfigLoader } from './loader';
