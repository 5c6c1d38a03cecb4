export * from './fleet-pipeline';
