export * from './additional-batch';
export * from './software-delivery-pipeline';
