import { AepClient } from './aep-client';
import { resolveAuthParams } from './auth-params';
import type { Invocation } from './config';
import { type CustomResourceEvent, type CustomResourceResponse, requirePhysicalId } from './events';
import { createOrAdopt, type FlowRef, markedDescription, nameAndDescriptionOps, onFlowResourceEvent, type PatchOp, updateInPlace } from './flow-resource';
import { log } from './log';
import { anyChanged, canonical, optionalObject, optionalString, type RawProps, requireString } from './props';
import { adoptionMarker, AepIds, Attributes, CommonProps, ConnectionProps } from '../private/contract';

const COLLECTION = '/connections';

/**
 * Changing any of these means a different connection in AEP: the spec and auth type cannot be
 * patched (API-NOTES §3.6 `1414-400`), and a new sandbox cannot see the old one. A new
 * credentials secret or host is NOT a replacement: it is usually the same org behind a renamed
 * secret or a proxy, and replacing would move dataflows' connections from under them (if the org
 * really changed, the PATCH fails clearly with 404 instead).
 */
const REPLACING_PROPS = [
  ConnectionProps.CONNECTION_SPEC_ID,
  ConnectionProps.AUTH_SPEC_NAME,
  CommonProps.SANDBOX_NAME,
];

/** Inputs whose change means the auth params AEP holds must be pushed again. */
const AUTH_PROPS = [
  ConnectionProps.AUTH_PARAMS,
  ConnectionProps.AUTH_SECRET_ARN,
  ConnectionProps.AUTH_SECRET_FIELDS,
  ConnectionProps.CHANGE_TOKEN,
  ConnectionProps.SESSION_TOKEN_DURATION,
];

/** Handles `Custom::AepConnection`: an AEP Flow Service base connection. */
export function onConnectionEvent(event: CustomResourceEvent, invocation: Invocation): Promise<CustomResourceResponse> {
  return onFlowResourceEvent({ collection: COLLECTION, idAttribute: Attributes.CONNECTION_ID, create, update }, event, invocation);
}

async function create(event: CustomResourceEvent, invocation: Invocation, replacing?: string): Promise<FlowRef> {
  const props = event.ResourceProperties;
  const client = await AepClient.fromProps(props, invocation);
  const desired = desiredState(event);
  const params = await resolveAuthParams(props, invocation);
  return createOrAdopt(client, COLLECTION, {
    filters: [`name=="${desired.name}"`, `connectionSpec.id==${desired.specId}`],
    marker: desired.marker,
    excludeId: replacing,
    body: {
      name: desired.name,
      description: desired.description,
      auth: { specName: desired.authSpecName, params },
      connectionSpec: { id: desired.specId, version: AepIds.CONNECTION_SPEC_VERSION },
      ...(desired.encryption ? { encryption: desired.encryption } : {}),
    },
    // Auth params cannot be read back (AEP masks them) and the secret may have rotated since
    // the interrupted attempt, so an adopted connection always gets them pushed again.
    reconcile: (item) => [
      ...fieldOps(item, desired),
      { op: 'replace', path: '/auth/params', value: params },
    ],
  });
}

async function update(event: CustomResourceEvent, invocation: Invocation): Promise<FlowRef> {
  const id = requirePhysicalId(event);
  const props = event.ResourceProperties;
  const old = event.OldResourceProperties ?? {};
  if (anyChanged(old, props, REPLACING_PROPS)) {
    log('info', 'connection spec, auth type or sandbox changed: creating a replacement', { replacing: id });
    return create(event, invocation, id);
  }
  const client = await AepClient.fromProps(props, invocation);
  const desired = desiredState(event);
  const before = desiredState({ ...event, ResourceProperties: old });
  const ops: PatchOp[] = [...fieldOps(before, desired)];
  if (anyChanged(old, props, AUTH_PROPS)) {
    ops.push({ op: 'replace', path: '/auth/params', value: await resolveAuthParams(props, invocation) });
  }
  return updateInPlace(client, COLLECTION, id, ops);
}

interface DesiredConnection {
  readonly name: string;
  readonly description: string;
  readonly marker: string;
  readonly specId: string;
  readonly authSpecName: string;
  readonly encryption?: Record<string, unknown>;
}

function desiredState(event: CustomResourceEvent): DesiredConnection {
  const props = event.ResourceProperties;
  const marker = adoptionMarker(event.StackId, event.LogicalResourceId);
  const description = optionalString(props, ConnectionProps.DESCRIPTION);
  return {
    name: requireString(props, ConnectionProps.NAME),
    description: markedDescription(description, marker),
    marker,
    specId: requireString(props, ConnectionProps.CONNECTION_SPEC_ID),
    authSpecName: requireString(props, ConnectionProps.AUTH_SPEC_NAME),
    encryption: encryptionOf(props),
  };
}

function encryptionOf(props: RawProps): Record<string, unknown> | undefined {
  const encryption = optionalObject(props, ConnectionProps.ENCRYPTION);
  if (!encryption) return undefined;
  if (typeof encryption.specName !== 'string' || !encryption.params || typeof encryption.params !== 'object') {
    throw new Error(`Property '${ConnectionProps.ENCRYPTION}' must be { specName, params }`);
  }
  return { specName: encryption.specName, params: encryption.params };
}

/** Ops that move name, description and encryption from `current` to `desired`. */
function fieldOps(current: { name?: unknown; description?: unknown; encryption?: unknown }, desired: DesiredConnection): PatchOp[] {
  const ops = nameAndDescriptionOps(current, desired);
  if (canonical(current.encryption ?? null) !== canonical(desired.encryption ?? null)) {
    ops.push(desired.encryption
      ? { op: current.encryption ? 'replace' : 'add', path: '/encryption', value: desired.encryption }
      : { op: 'remove', path: '/encryption' });
  }
  return ops;
}

