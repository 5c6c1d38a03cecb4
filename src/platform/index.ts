export * from './shared-platform';
