export * from './pipeline-source';
export * from './software-delivery-pipeline';
