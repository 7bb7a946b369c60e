import * as fs from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AepSandbox } from '../../src';
import { ResourceTypes } from '../../src/private/contract';

/** The provider synthesizes the bundled handler asset; `projen test` bundles it first. */
const HANDLER_ASSET = path.join(__dirname, '..', '..', 'assets', 'handler', 'aep.lambda', 'index.js');
if (!fs.existsSync(HANDLER_ASSET)) {
  throw new Error(`Missing ${HANDLER_ASSET}: run \`npx projen bundle\` before running these tests directly with jest`);
}

export const ACCOUNT = '111122223333';
export const REGION = 'eu-west-1';

/** A stack with a concrete environment (so ARNs and partitions are predictable in assertions). */
export function newStack(app: App = new App(), id = 'Dest'): Stack {
  return new Stack(app, id, { env: { account: ACCOUNT, region: REGION } });
}

/** The IMS org of the test sandbox's credential (what assumed roles are locked to). */
export const ORG_ID = 'ACME0123456789ABCDEF@AdobeOrg';

/**
 * The sandbox every test uses: credential secret imported by name (only its ARN is referenced),
 * of org {@link ORG_ID} unless `imsOrgId` says otherwise (`null`: no org id).
 */
export function newSandbox(stack: Stack, sandboxName = 'prod', imsOrgId: string | null = ORG_ID): AepSandbox {
  const credentials = secretsmanager.Secret.fromSecretNameV2(stack, `AepCredentials${stack.node.children.length}`, 'aep/credentials');
  return new AepSandbox({ credentials, sandboxName, imsOrgId: imsOrgId ?? undefined });
}

/** The one resource of a type, with its logical id. */
export function only(template: Template, type: string): [string, any] {
  const all = Object.entries(template.findResources(type));
  if (all.length !== 1) throw new Error(`expected exactly one ${type}, found ${all.length}`);
  return all[0];
}

/** A destination's one connection resource: base connection and target connection together. */
export function connection(template: Template): [string, any] {
  return only(template, ResourceTypes.DESTINATION_CONNECTION);
}
