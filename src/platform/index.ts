export { PlatformContract } from './contract';
export * from './platform-reference';
export * from './shared-platform';
export * from './platform-health';
