export * from './aep-sandbox';
export * from './aep-connection';
export * from './aep-s3-destination';
export * from './destination-auth';
export * from './export-options';
export * from './file-encryption';
export * from './aep-s3-source';
export * from './source-auth';
