import { resolveAuthParams, SENSITIVE_PARAMS } from './auth-params';
import { createOrAdopt, type FlowItem, type FlowRef, type FlowResourceType, markedDescription, namesOf, nameAndDescriptionOps, onFlowResourceEvent, type PatchOp } from './flow-resource';
import { proveSourceReachable, reachabilityFolder } from './reachability';
import { emitMetric } from './refresh';
import { AepClient } from '../../aep/aep-client';
import { checkAuthParams, encryptionBlock, type EncryptionBlock, type LiveConnectionSpec, readConnectionSpec } from '../../aep/connection-specs';
import { readAepCredentials } from '../../aws/secrets';
import { connectionKind, connectionKindOf, desiredConnectionKind } from '../../decisions/kinds';
import type { Invocation } from '../../plumbing/config';
import type { CustomResourceEvent, CustomResourceResponse } from '../../plumbing/events';
import { log } from '../../plumbing/log';
import { anyChanged, canonical, optionalObject, optionalString, projectLike, type RawProps, requireString, stringMap } from '../../plumbing/props';
import { adoptionMarker, AepIds, Attributes, CommonProps, ConnectionProps } from '../../private/contract';

const COLLECTION = '/connections';

/** Inputs whose change means the auth params AEP holds must be pushed again (AEP masks the secret ones). */
const AUTH_PROPS = [
  ConnectionProps.AUTH_PARAMS,
  ConnectionProps.AUTH_SECRET_ARN,
  ConnectionProps.AUTH_SECRET_FIELDS,
  ConnectionProps.CHANGE_TOKEN,
  ConnectionProps.SESSION_TOKEN_DURATION,
];

/**
 * Handles `Custom::AepConnection`: an AEP Flow Service base connection. Its kind (what AEP cannot
 * patch, API-NOTES §3.6 `1414-400`) is the connection spec and the auth type; a new sandbox
 * cannot see the old object at all. A new credentials secret or host is NOT a replacement: it is
 * usually the same org behind a renamed secret or a proxy, and replacing would move dataflows'
 * connections from under them.
 */
export async function onConnectionEvent(event: CustomResourceEvent, invocation: Invocation): Promise<CustomResourceResponse> {
  const response = await onFlowResourceEvent(CONNECTION_TYPE, event, invocation);
  await afterConnectionEvent(event, invocation, response.PhysicalResourceId);
  return response;
}

/** The base connection as a Flow Service resource type (also driven by the destination connection). */
export const CONNECTION_TYPE: FlowResourceType = {
  collection: COLLECTION,
  idAttribute: Attributes.CONNECTION_ID,
  kindOf: connectionKindOf,
  desiredKind: (e) => desiredConnectionKind(e.ResourceProperties),
  create,
  driftOps,
};

/** What follows a base connection's Create or Update: the source reachability check and the refresh metric. */
export async function afterConnectionEvent(event: CustomResourceEvent, invocation: Invocation, connectionId: string): Promise<void> {
  const props = event.ResourceProperties;
  // On Create only: any Update may be a rollback (even one that replaces, returning to the old
  // object), which CloudFormation runs before it reverts the bucket policy the check depends on;
  // failing it would leave the stack in UPDATE_ROLLBACK_FAILED.
  if (event.RequestType === 'Create' && reachabilityFolder(props) && props[ConnectionProps.CONNECTION_SPEC_ID] === AepIds.S3_SOURCE_CONNECTION_SPEC) {
    await proveSourceReachable(await AepClient.fromProps(props, invocation), event, connectionId);
  }
  if (event.RequestType !== 'Delete' && sessionCredentialsPushed(event)) {
    emitMetric(requireString(event.ResourceProperties, ConnectionProps.NAME), 1);
  }
}

/** Whether this event registered fresh STS session credentials (every Create; an Update that re-sent the auth params). */
function sessionCredentialsPushed(event: CustomResourceEvent): boolean {
  const props = event.ResourceProperties;
  if (props[ConnectionProps.SESSION_TOKEN_DURATION] === undefined) return false;
  return pushedAuthParams.has(event);
}

/** Events whose handling sent `/auth/params` to AEP (set by {@link create} and {@link driftOps}). */
const pushedAuthParams = new WeakSet<CustomResourceEvent>();

async function create(event: CustomResourceEvent, invocation: Invocation, replacing?: string): Promise<FlowRef> {
  const props = event.ResourceProperties;
  await checkTrustedOrg(props);
  const client = await AepClient.fromProps(props, invocation);
  const live = await readConnectionSpec(client, requireString(props, ConnectionProps.CONNECTION_SPEC_ID));
  const desired = desiredState(event, live);
  const desiredKind = connectionKind(desired.specId, desired.authSpecName);
  const params = await resolveAuthParams(props, invocation, { proveListing: event.RequestType === 'Create' });
  checkAuthParams(live, desired.authSpecName, params, (param) => paramHint(props, param));
  pushedAuthParams.add(event);
  return createOrAdopt(client, COLLECTION, {
    filters: desiredKind.filters,
    marker: desired.marker,
    names: namesOf(event),
    excludeId: replacing,
    sameKind: (item) => connectionKindOf(item).key === desiredKind.key,
    body: {
      name: desired.name,
      description: desired.description,
      auth: { specName: desired.authSpecName, params },
      connectionSpec: { id: desired.specId, version: AepIds.CONNECTION_SPEC_VERSION },
      ...(desired.encryption ? { [desired.encryption.key]: desired.encryption.value } : {}),
    },
    // Auth params cannot be read back (AEP masks them) and the secret may have rotated since
    // the interrupted attempt, so an adopted connection always gets them pushed again.
    reconcile: (item) => [
      ...fieldOps(item, desired),
      { op: 'replace', path: '/auth/params', value: params },
    ],
  });
}

/**
 * Everything patchable that differs between AEP and the desired state: name, description and
 * encryption as read back, the non-secret auth params as read back (a bucket or folder changed
 * in the UI), and all auth params when the secret ones may have changed (AEP masks those, so they
 * are compared by their inputs, never by value).
 */
async function driftOps(event: CustomResourceEvent, current: FlowItem, invocation: Invocation, client: AepClient): Promise<PatchOp[]> {
  const props = event.ResourceProperties;
  await checkTrustedOrg(props);
  const old = event.OldResourceProperties ?? {};
  const live = await readConnectionSpec(client, requireString(props, ConnectionProps.CONNECTION_SPEC_ID));
  const desired = desiredState(event, live);
  const ops: PatchOp[] = [...fieldOps(current, desired)];
  const held = ((current.auth as { params?: unknown } | undefined)?.params ?? {}) as Record<string, unknown>;
  const inlineDrift = Object.entries(stringMap(props, ConnectionProps.AUTH_PARAMS))
    .filter(([name]) => !SENSITIVE_PARAMS.includes(name))
    .filter(([name, value]) => held[name] !== value)
    .map(([name]) => name);
  // A param AEP holds that the stack does not set (a folder added in the UI) is drift too; only
  // what the live auth spec declares as plain and settable counts: AEP adds fields of its own
  // (authorizedDate), and the secret ones are masked and come from the secret.
  const declared = live.authSpecs.find((a) => a.name === desired.authSpecName)?.params ?? {};
  const fromSecret = stringMap(props, ConnectionProps.AUTH_SECRET_FIELDS);
  const inline = stringMap(props, ConnectionProps.AUTH_PARAMS);
  inlineDrift.push(...Object.keys(held).filter((name) => declared[name] && !declared[name].secret && !declared[name].readOnly
    && !SENSITIVE_PARAMS.includes(name) && fromSecret[name] === undefined && inline[name] === undefined));
  if (inlineDrift.length) log('info', 'auth params differ from what AEP holds', { params: inlineDrift });
  if (inlineDrift.length || anyChanged(old, props, AUTH_PROPS)) {
    const params = await resolveAuthParams(props, invocation);
    checkAuthParams(live, desired.authSpecName, params, (param) => paramHint(props, param));
    ops.push({ op: 'replace', path: '/auth/params', value: params });
    pushedAuthParams.add(event);
  }
  return ops;
}

/**
 * An assumed-role destination's trust admits AEP only with `sts:ExternalId` = its org id, and AEP
 * assumes the role with the org id of the credential that registers the connection (API-NOTES
 * §5.3). A credential of another org would register a connection whose every export is refused,
 * so it is stopped here, before anything is written to AEP. Org ids are not secrets.
 */
async function checkTrustedOrg(props: RawProps): Promise<void> {
  const trusted = optionalString(props, ConnectionProps.TRUSTED_IMS_ORG_ID);
  if (trusted === undefined) return;
  const arn = requireString(props, CommonProps.CREDENTIALS_SECRET_ARN);
  let { credentials, fromCache } = await readAepCredentials(arn);
  // A cached value may predate a credential swapped into the same secret.
  if (credentials.orgId !== trusted && fromCache) ({ credentials, fromCache } = await readAepCredentials(arn, { fresh: true }));
  if (credentials.orgId === trusted) return;
  throw new Error(`The AEP credential in secret ${arn} belongs to IMS org ${credentials.orgId}, but the destination role's trust admits AEP only `
    + `for IMS org ${trusted} (sts:ExternalId): AEP assumes the role as the org that registers the connection, so every export would be refused. `
    + `Nothing was written to AEP. Either set imsOrgId (on the AepSandbox or S3DestinationAuth.assumedRole) to ${credentials.orgId} if that org `
    + `should export to this bucket, or store a credential of org ${trusted} in the secret (its orgId field).`);
}

interface DesiredConnection {
  readonly name: string;
  readonly description: string;
  readonly marker: string;
  readonly specId: string;
  readonly authSpecName: string;
  readonly encryption?: EncryptionBlock;
}

function desiredState(event: CustomResourceEvent, live: LiveConnectionSpec): DesiredConnection {
  const props = event.ResourceProperties;
  const marker = adoptionMarker(event.StackId, event.LogicalResourceId);
  const description = optionalString(props, ConnectionProps.DESCRIPTION);
  return {
    name: requireString(props, ConnectionProps.NAME),
    description: markedDescription(description, marker),
    marker,
    specId: requireString(props, ConnectionProps.CONNECTION_SPEC_ID),
    authSpecName: requireString(props, ConnectionProps.AUTH_SPEC_NAME),
    encryption: encryptionOf(props, live),
  };
}

/**
 * The construct asks for PGP encryption with a public key; the live spec decides the block's
 * name, algorithm spelling and request key (API-NOTES §5.4, §9.1).
 */
function encryptionOf(props: RawProps, live: LiveConnectionSpec): EncryptionBlock | undefined {
  const encryption = optionalObject(props, ConnectionProps.ENCRYPTION);
  if (!encryption) return undefined;
  const publicKey = (encryption.params as { publicKey?: unknown } | undefined)?.publicKey;
  if (typeof publicKey !== 'string' || publicKey === '') {
    throw new Error(`Property '${ConnectionProps.ENCRYPTION}' must be { specName, params: { publicKey } }`);
  }
  return encryptionBlock(live, publicKey);
}

/** What to change on the construct when a param does not fit the live spec. */
function paramHint(props: RawProps, param: string): string {
  const field = stringMap(props, ConnectionProps.AUTH_SECRET_FIELDS)[param];
  if (field !== undefined) return `'${param}' comes from the secret field '${field}': change the construct's authentication mode or its secret`;
  if (param === 'folderPath') return "'folderPath' comes from the construct's folderPath: register the connection without a folder (leave folderPath unset) and give the folder to the dataflow instead";
  return `'${param}' comes from the construct's authentication settings: change them to what AEP declares`;
}

const ENCRYPTION_KEYS = ['encryption', 'encryptionSpecs'] as const;

/** Ops that move name, description and encryption (under either documented key) from `current` to `desired`. */
function fieldOps(current: FlowItem | { name?: unknown; description?: unknown }, desired: DesiredConnection): PatchOp[] {
  const ops = nameAndDescriptionOps(current, desired);
  const held = current as Record<string, unknown>;
  for (const key of ENCRYPTION_KEYS) {
    const want = desired.encryption?.key === key ? desired.encryption.value : undefined;
    // Judged as AEP reads it back: fields of its own, key order and echoed scalars are no change.
    if (canonical((want ? projectLike(held[key], want) : held[key]) ?? null) === canonical(want ?? null)) continue;
    ops.push(want
      ? { op: held[key] ? 'replace' : 'add', path: `/${key}`, value: want }
      // destinations.yaml's PatchConnectionItem requires a `value` on every op, remove included:
      // the block being removed, as the flow removal sends the selector it removes.
      : { op: 'remove', path: `/${key}`, value: held[key] });
  }
  return ops;
}

