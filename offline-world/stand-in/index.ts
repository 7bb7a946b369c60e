/**
 * Local stand-ins for Adobe IMS + Flow Service and for AWS Secrets Manager + STS.
 * See README.md in this folder.
 */
export * from './aep';
export * from './aep-rules';
export * from './aep-store';
export * from './aep-validation';
export * from './async-delete';
export * from './aws';
export * from './fake-credentials';
export * from './faults';
export * from './json-patch';
export * from './redact';
export * from './sigv4';
