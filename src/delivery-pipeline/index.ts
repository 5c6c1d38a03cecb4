export * from './software-delivery-pipeline';
