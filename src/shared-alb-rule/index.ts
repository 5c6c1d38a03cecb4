export * from './priority-allocator';
export * from './shared-alb-rule';
