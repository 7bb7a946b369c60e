import { Names } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { CommonProps, CONTRACT_VERSION } from './contract';
import type { AepSandbox } from '../aep-sandbox';

/** The CR properties that say where and as whom to call AEP (shared by every AEP resource). */
export function sandboxProperties(sandbox: AepSandbox): Record<string, string> {
  return {
    [CommonProps.CONTRACT_VERSION]: CONTRACT_VERSION,
    [CommonProps.CREDENTIALS_SECRET_ARN]: sandbox.credentials.secretArn,
    [CommonProps.SANDBOX_NAME]: sandbox.sandboxName,
    [CommonProps.FLOW_SERVICE_URL]: sandbox.endpoints.flowServiceUrl,
    [CommonProps.IMS_URL]: sandbox.endpoints.imsUrl,
  };
}

/** A readable, unique, deterministic AEP name for a construct (no tokens, no randomness). */
export function defaultConnectionName(scope: Construct): string {
  return `cdk-${Names.uniqueResourceName(scope, { maxLength: 120, separator: '-' })}`;
}
