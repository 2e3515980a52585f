export * from './defaults';
export * from './ids';
export * from './claims';
export * from './errors';
export * from './conversation';
export * from './inbox';
export * from './api';
export * from './events';
