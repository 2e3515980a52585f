export * from './sdk/index';
