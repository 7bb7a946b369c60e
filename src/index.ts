export * from './aep-sandbox';
export * from './aep-connection';
