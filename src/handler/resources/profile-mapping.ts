import { createHash } from 'crypto';
import { createOrAdoptMappingSet, dataPrepClient, getSet, type StoredSet } from './mapping-set';
import { AepClient } from '../../aep/aep-client';
import type { Invocation } from '../../plumbing/config';
import { type CustomResourceEvent, type CustomResourceResponse, requirePhysicalId } from '../../plumbing/events';
import { log } from '../../plumbing/log';
import { canonical, requireString } from '../../plumbing/props';
import { adoptionMarker, AepIds, CommonProps, DataflowAttributes, ProfileMappingProps } from '../../private/contract';
import { attributeListProblems, attributeMapping, isIdentityAttribute } from '../../private/profile-attributes';

/** The profile union schema, as the attribute mapping tutorial reads it (DATAFLOWS §4.6 step 1). */
export const UNION_SCHEMA_PATH = '/config/entityTypes/_xdm.context.profile';

/**
 * `Custom::AepProfileMapping`: the profile attributes an audience export writes (DATAFLOWS §4.6).
 * AEP's steps: read the profile union schema (Profile service), register it as the Data Prep input
 * schema (`POST /conversion/schemas`), register the S3 card's partner schema
 * (`targetSpec.attributes.partnerSchema.jsonSchema` of `GET /connectionSpecs/{S3 destination}`)
 * as the output schema, and create the mapping set between them; the flow then points its
 * `profileMapping` at the set (patched in place). Like ingestion mapping sets these cannot be
 * deleted or patched: a change makes a new set, a Delete leaves it; the name carries the adoption
 * marker and a hash of the attributes, so a lost POST answer is adopted, never duplicated. The
 * two Data Prep schemas are only POSTed when a set is about to be; one whose answer was lost is
 * an unreferenced Data Prep object (no lookup for them is documented).
 */
export async function onProfileMappingEvent(event: CustomResourceEvent, invocation: Invocation): Promise<CustomResourceResponse> {
  if (event.RequestType === 'Delete') {
    log('info', 'AEP mapping sets cannot be deleted (no DELETE in the Data Prep API); leaving it', { id: event.PhysicalResourceId });
    return { PhysicalResourceId: requirePhysicalId(event) };
  }
  const props = event.ResourceProperties;
  const attributes = desiredAttributes(props[ProfileMappingProps.ATTRIBUTES]);
  const mappings = attributes.map((a) => {
    const m = attributeMapping(a);
    return { source: m.source, destination: m.destination, sourceType: 'ATTRIBUTE' };
  });
  const hash = createHash('sha256').update(canonical(mappings)).digest('hex').substring(0, 12);
  const name = `cdk-aep-s3 profile mapping ${hash} ${adoptionMarker(event.StackId, event.LogicalResourceId)}`;
  const prep = await dataPrepClient(props, invocation);
  const current = event.RequestType === 'Update' ? await getSet(prep, requirePhysicalId(event)) : undefined;
  const ref = current && sameMappings(current, mappings) ? current : await createOrAdoptMappingSet(prep, name, async () => {
    const flowService = await AepClient.fromProps(props, invocation);
    const upsUrl = profileUrl(requireString(props, CommonProps.FLOW_SERVICE_URL));
    const profile = await AepClient.fromProps({ ...props, [CommonProps.FLOW_SERVICE_URL]: upsUrl }, invocation);
    const union = await unionSchema(profile, attributes);
    const partner = await partnerSchema(flowService);
    const input = await postSchema(prep, `${name} input`, union);
    const output = await postSchema(prep, `${name} output`, partner);
    return { name, inputSchema: { id: input }, outputSchema: { id: output }, mappings, xdmVersion: '1.0' };
  });
  return {
    PhysicalResourceId: ref.id,
    Data: { [DataflowAttributes.MAPPING_SET_ID]: ref.id, [DataflowAttributes.MAPPING_SET_VERSION]: String(ref.version ?? 0) },
  };
}

function desiredAttributes(raw: unknown): string[] {
  if (!Array.isArray(raw) || raw.length === 0 || raw.some((a) => typeof a !== 'string')) {
    throw new Error(`Property '${ProfileMappingProps.ATTRIBUTES}' must be a non-empty list of attribute paths`);
  }
  const problems = attributeListProblems(raw as string[]);
  if (problems.length) {
    throw new Error(problems.map(([i, rule]) => `Attribute ${JSON.stringify(raw[i])} ${rule}`).join('; '));
  }
  return raw as string[];
}

/** The Profile service beside Flow Service: `…/data/core/ups` (same host, DATAFLOWS §4.6). */
export function profileUrl(flowServiceUrl: string): string {
  return flowServiceUrl.replace(/\/+$/, '').replace(/\/data\/foundation\/flowservice$/, '/data/core/ups');
}

/** Stored mappings come back with another `sourceType` spelling: compare what they map. */
function sameMappings(set: StoredSet, mappings: Array<{ source: string; destination: string }>): boolean {
  const pairs = (ms: ReadonlyArray<{ source?: string; destination?: string }>) => canonical(ms.map((m) => [m.source, m.destination]));
  return set.inputSchema?.id !== undefined && pairs(set.mappings ?? []) === pairs(mappings);
}

type JsonSchema = { properties?: Record<string, JsonSchema>; additionalProperties?: unknown; type?: unknown };

/**
 * The union schema, checked to hold every attribute: a missing one fails here, naming it, rather
 * than as an opaque Data Prep validation error. Map-typed fields (`identityMap`,
 * `segmentMembership`: `additionalProperties`) accept any key below them.
 */
async function unionSchema(client: AepClient, attributes: string[]): Promise<JsonSchema> {
  const res = await client.request('GET', UNION_SCHEMA_PATH, {
    query: [['property', 'fullSchema==true'], ['property', 'includeRelationshipDescriptors==true']],
  });
  const schema = (res.data ?? {}) as JsonSchema;
  const missing = attributes.filter((a) => !resolves(schema, isIdentityAttribute(a) ? ['identityMap', '*'] : a.split('.')));
  if (missing.length) {
    throw new Error(`Profile attribute(s) ${missing.join(', ')} not found in the profile union schema of this sandbox (GET /data/core/ups${UNION_SCHEMA_PATH})`);
  }
  return schema;
}

function resolves(schema: JsonSchema | undefined, path: string[]): boolean {
  let node = schema;
  for (const field of path) {
    if (!node || typeof node !== 'object') return false;
    const next: JsonSchema | undefined = node.properties?.[field];
    if (next) node = next;
    else if (node.additionalProperties && typeof node.additionalProperties === 'object') node = node.additionalProperties as JsonSchema;
    else return false;
  }
  return true;
}

async function partnerSchema(client: AepClient): Promise<Record<string, unknown>> {
  const spec = AepIds.S3_DESTINATION_CONNECTION_SPEC;
  const res = await client.request('GET', `/connectionSpecs/${spec}`);
  const item = ((res.data as { items?: Array<Record<string, any>> } | undefined)?.items ?? [])[0];
  const schema = item?.targetSpec?.attributes?.partnerSchema?.jsonSchema;
  if (!schema || typeof schema !== 'object') {
    throw new Error(`AEP connection spec ${spec} has no targetSpec.attributes.partnerSchema.jsonSchema: cannot map profile attributes for this destination`);
  }
  return schema as Record<string, unknown>;
}

async function postSchema(client: AepClient, name: string, jsonSchema: unknown): Promise<string> {
  const res = await client.request('POST', '/schemas', { body: { name, jsonSchema }, retry: false });
  const id = (res.data as { id?: unknown } | undefined)?.id;
  if (typeof id !== 'string') throw new Error('POST /conversion/schemas: response lacks the new id');
  return id;
}
