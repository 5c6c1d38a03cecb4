export * from './customer-ami-pipeline';
export * from './packer-template';
