/**
 * The dataflow half of the AEP stand-in (DATAFLOWS.md): source connections, flow specs, flows
 * (create, read, PATCH with If-Match including audience selectors, enable/disable, delete), runs,
 * and Data Prep mapping sets. Request bodies are checked against Adobe's OpenAPI schemas
 * (flow-service.yaml, destinations.yaml, data-prep.yaml) and then against the documented rules
 * (flow spec `scheduleSpec`, audience selector rules, references between objects). Documented
 * stale-spec exceptions are named where they apply.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import type * as http from 'node:http';
import * as path from 'node:path';
import type { ValidateFunction } from 'ajv';
import { isObject, Violation, violation } from './aep-rules';
import { AepRuns, type RunInput, type StoredRun } from './aep-runs';
import { newEtag, ResourceStore, StoredResource, StoredTargetConnection } from './aep-store';
import { loadSpec, newAjv, OpenApiDoc, PATCH_BODY_SCHEMA, runSchema } from './aep-validation';
import { AsyncDeletes, Defer } from './async-delete';
import {
  DEFAULT_FLOW_SPEC_VARIANT, flowSpecDocuments, type FlowSpecVariant, mappingVersionProblems, readBack, refusedPatchPath,
  scheduleTypeProblems, schemaView,
} from './flow-specs';
import { header, mediaType } from './http';
import { applyPatch, PatchError, PatchOperation } from './json-patch';
import { AepIds, DataflowIds } from '../../src/private/contract';

/** Path prefix of the Data Prep API (DATAFLOWS conventions). */
export const DATA_PREP_PATH = '/data/foundation/conversion';
/** The profile union schema of the Profile service (DATAFLOWS §4.6 step 1). */
export const UNION_SCHEMA_PATH = '/data/core/ups/config/entityTypes/_xdm.context.profile';

const str = { type: 'string' };
const obj = (properties: Record<string, unknown>) => ({ type: 'object', properties });
/**
 * The profile union schema served. Adobe prints none (the tutorial passes it on as
 * "{…union schema…}"): a JSON Schema with XDM's standard profile field groups and one tenant
 * field group; `identityMap` and `segmentMembership` are maps (`additionalProperties`), as in XDM.
 */
export const UNION_SCHEMA: Record<string, unknown> = {
  $id: 'https://ns.adobe.com/xdm/context/profile__union',
  title: 'Profile union schema',
  type: 'object',
  properties: {
    _id: str,
    person: obj({ name: obj({ firstName: str, lastName: str, fullName: str }), birthDate: { type: 'string', format: 'date' } }),
    personalEmail: obj({ address: { type: 'string', format: 'email' }, status: str }),
    mobilePhone: obj({ number: str, status: str }),
    homeAddress: obj({ city: str, postalCode: str, country: str }),
    identityMap: { type: 'object', additionalProperties: { type: 'array', items: obj({ id: str, primary: { type: 'boolean' } }) } },
    segmentMembership: { type: 'object', additionalProperties: { type: 'object', additionalProperties: obj({ status: str, lastQualificationTime: str }) } },
    _acme: obj({ loyalty: obj({ tier: str, points: { type: 'integer' } }) }),
  },
};

/**
 * `targetSpec.attributes.partnerSchema.jsonSchema` of the S3 destination spec as printed (DATAFLOWS
 * §1.2: title and the three top-level fields; the members Adobe abridges as "{…map…}" are maps here).
 */
export const S3_PARTNER_SCHEMA: Record<string, unknown> = {
  title: 'defaultschema',
  type: 'object',
  properties: {
    attributes: { type: 'object', additionalProperties: obj({ value: str }) },
    identityMap: { type: 'object', additionalProperties: { type: 'array', items: obj({ id: str }) } },
    segmentMembership: { type: 'object', additionalProperties: { type: 'object', additionalProperties: obj({ status: str }) } },
  },
};
const FLOW_SERVICE_PATH = '/data/foundation/flowservice';

/** What the stand-in's request plumbing hands over (structural: aep.ts's exchange fits). */
export interface FlowsExchange {
  readonly req: http.IncomingMessage;
  readonly url: URL;
  readonly rawBody: string;
  readonly record: { readonly method: string; readonly path: string };
}

/** The parts of `AepStandIn` this module uses. */
export interface FlowsHost {
  readonly connections: ResourceStore<StoredResource>;
  readonly targets: ResourceStore<StoredTargetConnection>;
  readonly clientId: string;
  /** Runs `work` later; pending until then (the stand-in's `settle` waits, `reset` cancels). */
  readonly defer: Defer;
  reply(ex: FlowsExchange, status: number, body: unknown, headers?: Record<string, string>): void;
  reject(ex: FlowsExchange, problem: Violation): void;
  /** API gateway checks; the sandbox, or undefined after replying. */
  checkGateway(ex: FlowsExchange): string | undefined;
  /** Common fields of a new Flow Service object (ids, times, etag, sandbox). */
  newResource(sandbox: string, input: Record<string, unknown>): StoredResource;
  timestamp(): number;
  lagVisibility(ex: FlowsExchange, store: ResourceStore<StoredResource>, id: string): void;
}

/** A source connection as stored. */
export interface StoredSourceConnection extends StoredResource {
  baseConnectionId?: string;
  data?: Record<string, unknown>;
  params?: Record<string, unknown>;
  /** Server-set (destinations.yaml `SourceConnectionItem`): what the exported data is. */
  typeInfo?: { type: string; id: string };
  /** Server-set (destinations.yaml `SourceConnectionItem`). */
  inheritedAttributes?: { baseConnection?: string };
}

/**
 * What Flow Service adds to a destination's source connection: destinations.yaml requires
 * `inheritedAttributes` and `typeInfo`; its examples give a Profile Store source
 * `typeInfo: {type: "ProfileFragments", id: "ups"}`. Nothing documents a Data Lake source's
 * `typeInfo` (contract-gaps.ts `dst-datalake-source-typeinfo`).
 */
function serverSetSourceFields(input: Record<string, unknown>): Pick<StoredSourceConnection, 'typeInfo' | 'inheritedAttributes'> {
  const specId = (input.connectionSpec as { id?: unknown } | undefined)?.id;
  if (specId === DataflowIds.PROFILE_STORE_SOURCE_SPEC) return { typeInfo: { type: 'ProfileFragments', id: 'ups' }, inheritedAttributes: {} };
  if (specId === DataflowIds.DATA_LAKE_SOURCE_SPEC) return { inheritedAttributes: {} };
  return {};
}

/** A flow as stored (`connectionSpec` is unused: flows have a `flowSpec`). */
export interface StoredFlow extends StoredResource {
  flowSpec: { id: string; version: string };
  sourceConnectionIds: string[];
  targetConnectionIds: string[];
  transformations: Array<{ name: string; params: Record<string, unknown> }>;
  scheduleParams?: Record<string, unknown>;
}

/** A Data Prep mapping set as stored. */
export interface StoredMappingSet {
  id: string;
  sandboxName: string;
  name?: string;
  version: number;
  createdDate: number;
  modifiedDate: number;
  /** Ingestion sets: an XDM schema reference; profile export sets: a Data Prep schema id. */
  outputSchema: { schemaRef?: { id: string; contentType?: string }; id?: string };
  /** Profile export sets only: the Data Prep schema of the union schema. */
  inputSchema?: { id: string };
  mappings: Array<Record<string, unknown>>;
}

/** A Data Prep schema (`POST /conversion/schemas`, DATAFLOWS §4.6). */
export interface StoredConversionSchema {
  id: string;
  sandboxName: string;
  name?: string;
  version: number;
  jsonSchema: Record<string, unknown>;
}

/** A flow run (DATAFLOWS §3.9). */
export type { StoredRun } from './aep-runs';

const SELECTORS_PATH = /^\/transformations\/0\/params\/segmentSelectors\/selectors\/(\d+|-)$/;
/** Paths a flow PATCH may touch (DATAFLOWS §3.6, §4.5–§4.8). */
const FLOW_PATCHABLE = [
  /^\/name$/, /^\/description$/, /^\/scheduleParams(\/[a-zA-Z]+)?$/, /^\/transformations\/0$/, /^\/transformations\/-$/,
  SELECTORS_PATH, /^\/transformations\/0\/params\/(mandatoryFields|primaryFields|profileMapping)$/,
  /^\/sourceConnectionIds$/, /^\/options(\/[a-zA-Z]+)?$/, /^\/policy(\/.*)?$/,
];
const FILE_NAME_MACROS = new Set([
  'DESTINATION', 'SEGMENT_ID', 'SEGMENT_NAME', 'DESTINATION_INSTANCE_ID', 'DESTINATION_INSTANCE_NAME',
  'ORGANIZATION_NAME', 'SANDBOX_NAME', 'TIMESTAMP', 'DATETIME(YYYYMMdd_HHmmss)',
]);
const FREQUENCIES: Record<string, readonly string[]> = {
  DAILY_FULL_EXPORT: ['ONCE', 'DAILY'],
  FIRST_FULL_THEN_INCREMENTAL: ['DAILY', 'EVERY_3_HOURS', 'EVERY_6_HOURS', 'EVERY_8_HOURS', 'EVERY_12_HOURS'],
};

/** Compiled dataflow request schemas. */
export interface FlowSchemas {
  readonly s3SourceConnection: ValidateFunction;
  readonly profileStoreSourceConnection: ValidateFunction;
  readonly dataLakeSourceConnection: ValidateFunction;
  readonly sourceFlow: ValidateFunction;
  readonly audienceFlow: ValidateFunction;
  readonly datasetFlow: ValidateFunction;
  readonly datasetSchedule: ValidateFunction;
  readonly segmentSelector: ValidateFunction;
  readonly mandatoryFields: ValidateFunction;
  readonly primaryFields: ValidateFunction;
  readonly mappingSet?: ValidateFunction;
  readonly profileMapping: ValidateFunction;
  readonly conversionSchema?: ValidateFunction;
}

const patchStructure = newAjv().compile(PATCH_BODY_SCHEMA);

function compileWithComponents(doc: OpenApiDoc, id: string, name: string): ValidateFunction {
  const ajv = newAjv();
  ajv.addSchema({ $id: id, components: doc.components }, id);
  return ajv.compile({ $ref: `${id}#/components/schemas/${name}` });
}

// Loading and compiling costs ~100 ms: every stand-in of a test run shares it.
const schemaCache = new Map<string, Promise<FlowSchemas | undefined>>();

/** Compiles the dataflow request schemas from the spec folder (undefined when the files are missing). */
export function loadFlowSchemas(dir: string): Promise<FlowSchemas | undefined> {
  const key = path.resolve(dir);
  let cached = schemaCache.get(key);
  if (!cached) {
    cached = compileFlowSchemas(key);
    schemaCache.set(key, cached);
    cached.catch(() => schemaCache.delete(key));
  }
  return cached;
}

async function compileFlowSchemas(dir: string): Promise<FlowSchemas | undefined> {
  const file = (name: string) => path.join(dir, name);
  if (!fs.existsSync(file('flow-service.yaml')) || !fs.existsSync(file('destinations.yaml'))) return undefined;
  const [sources, destinations] = await Promise.all([loadSpec(file('flow-service.yaml')), loadSpec(file('destinations.yaml'))]);
  const prep = fs.existsSync(file('data-prep.yaml')) ? await loadSpec(file('data-prep.yaml')) : undefined;
  const ajv = newAjv();
  const body = (doc: OpenApiDoc, route: string, method: string) => {
    const schema = doc.paths?.[route]?.[method]?.requestBody?.content?.['application/json']?.schema;
    if (!schema) throw new Error(`AEP stand-in: no JSON request body for ${method.toUpperCase()} ${route}`);
    return schema as { oneOf?: Array<{ oneOf?: object[] }>; items?: { properties?: { value?: { oneOf?: object[] } } } };
  };
  // destinations.yaml's bodies are oneOfs whose branches overlap; the spec id picks the branch
  // (as aep-validation.ts does for connections), which also gives precise messages.
  const dstSource = body(destinations, '/sourceConnections', 'post').oneOf!;
  const dstFlow = body(destinations, '/flows', 'post').oneOf!;
  const patchValues = body(destinations, '/flows/{id}', 'patch').items!.properties!.value!.oneOf!;
  const byTitle = (list: object[], title: string) => {
    const found = list.find((s) => (s as { title?: string }).title === title);
    if (!found) throw new Error(`AEP stand-in: schema "${title}" not found in destinations.yaml`);
    return found;
  };
  return {
    s3SourceConnection: ajv.compile(body(sources, '/sourceConnections', 'post')),
    profileStoreSourceConnection: ajv.compile(byTitle(dstSource, 'Create Profile Store Source Connection Request')),
    dataLakeSourceConnection: ajv.compile(byTitle(dstSource, '(Beta) Create Data Lake Source Connection Request')),
    sourceFlow: ajv.compile(body(sources, '/flows', 'post')),
    audienceFlow: ajv.compile(byTitle((byTitle(dstFlow, '(Beta) Create Batch Destination Flow Request') as { oneOf?: object[] }).oneOf ?? [], '(Beta) Create Batch Destination Flow Request for Segments')),
    datasetFlow: ajv.compile(byTitle((byTitle(dstFlow, '(Beta) Create Batch Destination Flow Request') as { oneOf?: object[] }).oneOf ?? [], '(Beta) Create Batch Destination Flow Request for Datasets')),
    datasetSchedule: ajv.compile(byTitle(patchValues, 'Dataset Schedule Params')),
    segmentSelector: ajv.compile(byTitle(patchValues, '(Beta) Segment Selector')),
    mandatoryFields: ajv.compile(byTitle(patchValues, '(Beta) Mandatory Fields')),
    primaryFields: ajv.compile(byTitle(patchValues, '(Beta) Primary Fields (Deduplication Keys)')),
    // data-prep.yaml is circular (left as in-document refs by the dereferencer): resolve them in place.
    mappingSet: prep ? compileWithComponents(prep, 'data-prep', 'MappingSet') : undefined,
    profileMapping: ajv.compile(byTitle(patchValues, '(Beta) Profile Mapping')),
    // `/conversion/schemas` is not in data-prep.yaml (DATAFLOWS §4.6); its body and answer have
    // the fields of the spec's `SchemaRepresentation` (`id`, `version`, `jsonSchema`).
    conversionSchema: prep ? compileWithComponents(prep, 'data-prep-schema', 'SchemaRepresentation') : undefined,
  };
}

/** Source connections, flows, flow specs, runs and mapping sets of one stand-in. */
export class AepFlows {
  readonly sources = new ResourceStore<StoredSourceConnection>(['id', 'name', 'connectionSpec.id', 'baseConnectionId', 'state', 'createdAt', 'updatedAt']);
  readonly flows = new ResourceStore<StoredFlow>(['id', 'name', 'flowSpec.id', 'state', 'sourceConnectionIds[]', 'targetConnectionIds[]', 'createdAt', 'updatedAt']);
  readonly mappingSets = new Map<string, StoredMappingSet>();
  readonly conversionSchemas = new Map<string, StoredConversionSchema>();
  /** Runs, the world clock and AEP's 30-day auto-disable rule (aep-runs.ts). */
  readonly runs = new AepRuns({ flows: () => this.flows.all(), putFlow: (flow) => this.flows.put(flow as StoredFlow) });
  /** Destination flow deletions accepted (202) and not carried out yet; `delayMs` is settable per test. */
  readonly deletes: AsyncDeletes;
  /** The documented variant of the flow specs served and enforced (flow-specs.ts); back to the default on {@link clear}. */
  flowSpecVariant: FlowSpecVariant = DEFAULT_FLOW_SPEC_VARIANT;
  /**
   * How `GET /mappingSets?name=` filters (guess 20 of the README: the Data Prep OpenAPI says only
   * "Filter the mapping sets by name"): `exact`, or `ignored` (every set of the sandbox, oldest
   * first, `limit` per page from `start`), the reading under which a lookup must page.
   */
  mappingSetNameFilter: 'exact' | 'ignored' = 'exact';

  constructor(private readonly host: FlowsHost, private readonly schemas: FlowSchemas | undefined, flowDeleteDelayMs?: number) {
    this.deletes = new AsyncDeletes(flowDeleteDelayMs);
  }

  clear(): void {
    this.flowSpecVariant = DEFAULT_FLOW_SPEC_VARIANT;
    this.mappingSetNameFilter = 'exact';
    this.deletes.clear();
    this.sources.clear();
    this.flows.clear();
    this.mappingSets.clear();
    this.conversionSchemas.clear();
    this.runs.clear();
  }

  /** Records a run of a flow (tests: a failed run for the run alarm); see {@link AepRuns.add}. `errors` are AEP's reasons. */
  addRun(flowId: string, run: string | RunInput, errors?: Array<{ code: string; message: string }>): StoredRun {
    const input = typeof run === 'string' ? { status: run } : run;
    return this.runs.add(flowId, errors ? { ...input, errors } : input);
  }

  /**
   * Why a base connection or target connection may not be deleted now (AEP's `1418-400` /
   * `1447-400`), or undefined.
   */
  deleteBlocker(kind: 'connection' | 'target', id: string): Violation | undefined {
    if (kind === 'connection' && this.sources.all().some((s) => s.baseConnectionId === id)) {
      return violation(`Connection ${id} cannot be deleted because the base connection is being used in one or more flows`, '1418-400');
    }
    if (kind === 'target') {
      const flow = this.flows.all().find((f) => f.targetConnectionIds.includes(id));
      if (flow) return violation(`Found active flows containing id ${id}: ${flow.id}`, '1447-400');
    }
    return undefined;
  }

  /** Handles the request if it belongs to this module (returns false otherwise). */
  handle(ex: FlowsExchange): boolean {
    const pathname = ex.url.pathname.replace(/\/+$/, '');
    if (pathname.startsWith(`${DATA_PREP_PATH}/`)) {
      this.withBody(ex, (sandbox, body) => this.dataPrep(ex, sandbox, pathname.substring(DATA_PREP_PATH.length).split('/').slice(1), body));
      return true;
    }
    if (pathname === UNION_SCHEMA_PATH) {
      this.withBody(ex, () => this.unionSchema(ex));
      return true;
    }
    if (!pathname.startsWith(`${FLOW_SERVICE_PATH}/`)) return false;
    const parts = pathname.substring(FLOW_SERVICE_PATH.length).split('/').slice(1);
    if (!['sourceConnections', 'flows', 'flowSpecs', 'runs'].includes(parts[0])) return false;
    this.withBody(ex, (sandbox, body) => this.flowService(ex, sandbox, parts, body));
    return true;
  }

  /** Gateway checks and JSON parsing; an action POST may come without a body (DATAFLOWS §3.7). */
  private withBody(ex: FlowsExchange, next: (sandbox: string, body: unknown) => void): void {
    const sandbox = this.host.checkGateway(ex);
    if (sandbox === undefined) return;
    let body: unknown;
    if (['POST', 'PUT', 'PATCH'].includes(ex.record.method) && ex.rawBody !== '') {
      if (mediaType(ex.req) !== 'application/json') {
        this.host.reply(ex, 415, { errorCode: '415', errorMessage: 'Content-Type must be application/json' });
        return;
      }
      try {
        body = JSON.parse(ex.rawBody);
      } catch {
        this.host.reject(ex, violation('request body is not valid JSON'));
        return;
      }
    }
    next(sandbox, body);
  }

  private flowService(ex: FlowsExchange, sandbox: string, [collection, id, sub, ...rest]: string[], body: unknown): void {
    const method = ex.record.method;
    const needsBody = (method === 'POST' && sub === undefined) || method === 'PATCH';
    if (needsBody && body === undefined) {
      this.host.reject(ex, violation('request body is required'));
      return;
    }
    if (collection === 'flowSpecs' && method === 'GET' && sub === undefined) return this.flowSpecs(ex, id);
    if (collection === 'runs' && method === 'GET' && id === undefined) return this.listRuns(ex, sandbox);
    if (collection === 'flows' && id && sub === 'action' && rest.length === 0 && method === 'POST') return this.action(ex, sandbox, id);
    if ((collection === 'sourceConnections' || collection === 'flows') && sub === undefined) {
      const store: ResourceStore<StoredResource> = collection === 'flows' ? this.flows : this.sources;
      if (id === undefined && method === 'GET') return this.list(ex, sandbox, store);
      if (id === undefined && method === 'POST') return collection === 'flows' ? this.createFlow(ex, sandbox, body) : this.createSource(ex, sandbox, body);
      if (id !== undefined && method === 'GET') return this.getOne(ex, sandbox, store, collection, id);
      if (id !== undefined && method === 'PATCH') return this.patch(ex, sandbox, collection, id, body);
      if (id !== undefined && method === 'DELETE') return this.remove(ex, sandbox, collection, id);
    }
    this.host.reply(ex, 405, { errorCode: '405', errorMessage: `${method} is not allowed on ${ex.url.pathname}` });
  }

  // ------------------------------------------------------------------ reads

  private list(ex: FlowsExchange, sandbox: string, store: ResourceStore<StoredResource>): void {
    const arrayFilter = ex.url.searchParams.getAll('property').find((p) => p.includes('[]'));
    if (store === this.flows && arrayFilter && this.flowSpecVariant.arrayFilters === false) {
      return this.host.reject(ex, violation(`Invalid filter ${arrayFilter}`, '1453-400'));
    }
    const result = store.list(sandbox, ex.url.searchParams, ex.url.origin + ex.url.pathname);
    if ('messages' in result) return this.host.reject(ex, result);
    const body = result.body;
    // AEP's spelling of what it stores (flow-specs.ts).
    if (store === this.flows && isObject(body) && Array.isArray(body.items)) {
      body.items = body.items.map((f: unknown) => readBack(f, this.flowSpecVariant));
    }
    this.host.reply(ex, result.status, body);
  }

  private getOne(ex: FlowsExchange, sandbox: string, store: ResourceStore<StoredResource>, collection: string, id: string): void {
    const item = store.get(id, sandbox);
    if (!item) return this.notFound(ex, collection, id);
    this.host.reply(ex, 200, { items: [store === this.flows ? readBack(structuredClone(item), this.flowSpecVariant) : structuredClone(item)] });
  }

  private flowSpecs(ex: FlowsExchange, id: string | undefined): void {
    if (id !== undefined) {
      const spec = flowSpecDocuments(this.flowSpecVariant).find((s) => s.id === id);
      if (!spec) return this.host.reply(ex, 404, { errorCode: '404', errorMessage: `Flow spec ${id} not found` });
      return this.host.reply(ex, 200, { items: [spec] });
    }
    let specs = flowSpecDocuments(this.flowSpecVariant);
    for (const raw of ex.url.searchParams.getAll('property')) {
      const match = /^(id|name|providerId)==(.*)$/.exec(raw);
      if (!match) return this.host.reject(ex, violation(`property filter '${raw}' is not supported on flow specs (id, name, providerId)`));
      const values = match[2].split(',').map((v) => v.replace(/^"(.*)"$/, '$1'));
      specs = specs.filter((s) => values.includes(String(s[match[1]])));
    }
    this.host.reply(ex, 200, { items: specs });
  }

  private listRuns(ex: FlowsExchange, sandbox: string): void {
    const result = this.runs.list(sandbox, ex.url.searchParams, ex.url.origin + ex.url.pathname);
    if ('messages' in result) return this.host.reject(ex, result);
    this.host.reply(ex, result.status, result.body);
  }

  // ------------------------------------------------------------------ source connections

  private createSource(ex: FlowsExchange, sandbox: string, body: unknown): void {
    const problem = this.checkSource(body, sandbox);
    if (problem) return this.host.reject(ex, problem);
    const input = body as Record<string, unknown>;
    const item: StoredSourceConnection = {
      ...this.host.newResource(sandbox, input),
      ...(input.baseConnectionId !== undefined ? { baseConnectionId: String(input.baseConnectionId) } : {}),
      ...(input.data !== undefined ? { data: structuredClone(input.data) as Record<string, unknown> } : {}),
      ...(input.params !== undefined ? { params: structuredClone(input.params) as Record<string, unknown> } : {}),
      ...serverSetSourceFields(input),
    };
    this.sources.put(item);
    this.host.lagVisibility(ex, this.sources, item.id);
    this.host.reply(ex, 201, { id: item.id, etag: item.etag });
  }

  private checkSource(body: unknown, sandbox: string): Violation | undefined {
    if (!isObject(body)) return violation('body must be a JSON object');
    const specId = isObject(body.connectionSpec) ? body.connectionSpec.id : undefined;
    if (specId === AepIds.S3_SOURCE_CONNECTION_SPEC) {
      const schema = this.schemas && runSchema(this.schemas.s3SourceConnection, body, 'flow-service.yaml POST /sourceConnections');
      return schema ?? checkS3Source(body, (id) => this.host.connections.get(id, sandbox));
    }
    if (specId === DataflowIds.PROFILE_STORE_SOURCE_SPEC) {
      const schema = this.schemas && runSchema(this.schemas.profileStoreSourceConnection, body, 'destinations.yaml Create Profile Store Source Connection Request');
      if (schema) return schema;
      const extra = ['baseConnectionId', 'data', 'params'].filter((k) => body[k] !== undefined);
      return extra.length ? violation(`a Profile Store source connection takes no ${extra.join(', ')}`) : undefined;
    }
    if (specId === DataflowIds.DATA_LAKE_SOURCE_SPEC) {
      const schema = this.schemas && runSchema(this.schemas.dataLakeSourceConnection, body, 'destinations.yaml (Beta) Create Data Lake Source Connection Request');
      return schema ?? checkDataLakeSource(body);
    }
    return violation(
      `connectionSpec.id must be ${AepIds.S3_SOURCE_CONNECTION_SPEC} (S3), ${DataflowIds.PROFILE_STORE_SOURCE_SPEC} (Profile Store) or ${DataflowIds.DATA_LAKE_SOURCE_SPEC} (Data Lake)`,
      '1413-400');
  }

  // ------------------------------------------------------------------ flows

  private createFlow(ex: FlowsExchange, sandbox: string, body: unknown): void {
    if (isObject(body) && body.state !== undefined) {
      return this.host.reject(ex, violation('`State` is not allowed in the create flow request.', '1410-400'));
    }
    const problem = this.checkFlowRequest(body) ?? this.checkFlow(body as Record<string, unknown>, sandbox);
    if (problem) return this.host.reject(ex, problem);
    const input = body as Record<string, unknown>;
    const base = this.host.newResource(sandbox, { ...input, connectionSpec: { id: '', version: '' } });
    delete (base as { connectionSpec?: unknown }).connectionSpec;
    const item = {
      ...base,
      flowSpec: structuredClone(input.flowSpec),
      sourceConnectionIds: [...input.sourceConnectionIds as string[]],
      targetConnectionIds: [...input.targetConnectionIds as string[]],
      transformations: structuredClone(input.transformations ?? []),
      ...(input.scheduleParams !== undefined ? { scheduleParams: structuredClone(input.scheduleParams) } : {}),
      runs: `/runs?property=flowId==${base.id}`,
    } as unknown as StoredFlow;
    defaultDatasetEndTime(item);
    this.flows.put(item);
    this.host.lagVisibility(ex, this.flows, item.id);
    this.host.reply(ex, 201, { id: item.id, etag: item.etag });
  }

  /** The create request against the OpenAPI schema of its flow spec. */
  private checkFlowRequest(body: unknown): Violation | undefined {
    if (!isObject(body)) return violation('body must be a JSON object');
    const specId = isObject(body.flowSpec) ? body.flowSpec.id : undefined;
    if (!this.schemas) return undefined;
    if (specId === DataflowIds.S3_AUDIENCE_FLOW_SPEC) {
      // Stale-spec exception (DATAFLOWS §0.1, §6.4): the schema's enum says "General Transform";
      // the spelling the served flow spec declares is what is accepted (flow-specs.ts).
      return runSchema(this.schemas.audienceFlow, schemaView(body, this.flowSpecVariant), 'destinations.yaml (Beta) Create Batch Destination Flow Request for Segments');
    }
    if (specId === DataflowIds.S3_DATASET_FLOW_SPEC) {
      return runSchema(this.schemas.datasetFlow, body, 'destinations.yaml (Beta) Create Batch Destination Flow Request for Datasets');
    }
    return runSchema(this.schemas.sourceFlow, schemaView(body, this.flowSpecVariant), 'flow-service.yaml POST /flows');
  }

  /** The rules of the flow spec and the references (create and after every PATCH). */
  private checkFlow(flow: Record<string, unknown>, sandbox: string): Violation | undefined {
    const spec = flowSpecDocuments(this.flowSpecVariant).find((s) => isObject(flow.flowSpec) && s.id === flow.flowSpec.id);
    if (!spec) {
      return violation('flowSpec.id must be a flow spec this stand-in serves (CloudStorageToAEP, the S3 audience or dataset spec)', '1413-400');
    }
    const problems: string[] = [];
    if (typeof flow.name !== 'string' || !flow.name.trim()) problems.push('name is required');
    const sources = Array.isArray(flow.sourceConnectionIds) ? flow.sourceConnectionIds : [];
    const targets = Array.isArray(flow.targetConnectionIds) ? flow.targetConnectionIds : [];
    if (sources.length !== 1) problems.push('sourceConnectionIds must hold exactly one id');
    if (targets.length !== 1) problems.push('targetConnectionIds must hold exactly one id');
    const source = this.sources.get(String(sources[0]), sandbox);
    const target = this.host.targets.get(String(targets[0]), sandbox);
    if (sources.length === 1 && (!source || !spec.sourceConnectionSpecIds.includes(source.connectionSpec.id))) {
      problems.push(`sourceConnectionIds[0] is not a source connection of a spec flow spec ${spec.id} accepts, in sandbox ${sandbox}`);
    }
    if (targets.length === 1 && (!target || !spec.targetConnectionSpecIds.includes(target.connectionSpec.id))) {
      problems.push(`targetConnectionIds[0] is not a target connection of a spec flow spec ${spec.id} accepts, in sandbox ${sandbox}`);
    }
    if (problems.length) return violation(problems);
    const transformations = Array.isArray(flow.transformations) ? flow.transformations as Array<Record<string, unknown>> : [];
    if (spec.id === DataflowIds.CLOUD_STORAGE_FLOW_SPEC) {
      problems.push(...checkSchedule(flow.scheduleParams), ...scheduleTypeProblems(flow.scheduleParams, this.flowSpecVariant));
      const format = isObject(source!.data) ? source!.data.format : undefined;
      if (transformations.length === 0 && format !== 'parquet') {
        problems.push(`a ${String(format)} source needs a Mapping transformation (its columns are not XDM paths)`);
      }
      for (const t of transformations) {
        const mappingProblem = this.checkMappingRef(t, target!, sandbox);
        if (mappingProblem) return mappingProblem;
        problems.push(...mappingVersionProblems(t.params, this.flowSpecVariant));
      }
      return problems.length ? violation(problems) : undefined;
    }
    if (spec.id === DataflowIds.S3_DATASET_FLOW_SPEC) {
      // Inference: a dataset flow writes `datasetFileType` files, so its target connection must be
      // a dataset one ([spec-dst] "Dataset specific target connection parameters").
      if (!isObject(target!.params) || target!.params.datasetFileType === undefined) {
        problems.push('targetConnectionIds[0] is an audience target connection (fileType); a dataset flow needs one with datasetFileType');
      }
      if (transformations.length !== 0) problems.push('transformations must be [] ([spec-dst]: "For dataset dataflows, the transformations list will always be empty")');
      problems.push(...this.checkDatasetSchedule(flow.scheduleParams));
      return problems.length ? violation(problems) : undefined;
    }
    if (flow.scheduleParams !== undefined) problems.push('an audience flow has no scheduleParams (schedules are per audience selector)');
    const t = transformations[0];
    const declared = (spec.transformationSpecs as { name?: string } | undefined)?.name;
    if (transformations.length !== 1 || t.name !== declared || !isObject(t.params)) {
      return violation([...problems, `transformations must be the one "${String(declared)}" skeleton the flow spec declares ([spec-dst] "for Segments")`]);
    }
    const segmentSelectors = t.params.segmentSelectors;
    const selectors = isObject(segmentSelectors) && Array.isArray(segmentSelectors.selectors) ? segmentSelectors.selectors : undefined;
    if (!selectors) return violation([...problems, 'transformations[0].params.segmentSelectors.selectors must be an array']);
    const ids = new Set<string>();
    selectors.forEach((s: unknown, i: number) => {
      problems.push(...this.checkSelector(s).map((p) => `selectors[${i}]: ${p}`));
      const id = isObject(s) && isObject(s.value) ? String(s.value.id) : '';
      if (ids.has(id)) problems.push(`selectors[${i}]: audience ${id} is already exported by this flow`);
      ids.add(id);
    });
    if (this.schemas && t.params.mandatoryFields !== undefined) {
      const m = runSchema(this.schemas.mandatoryFields, t.params.mandatoryFields, 'destinations.yaml (Beta) Mandatory Fields');
      if (m) problems.push(...m.messages);
    }
    problems.push(...this.checkProfileMapping(t.params.profileMapping, sandbox));
    if (this.schemas && Array.isArray(t.params.primaryFields) && t.params.primaryFields.length > 0) {
      const p = runSchema(this.schemas.primaryFields, t.params.primaryFields, 'destinations.yaml (Beta) Primary Fields (Deduplication Keys)');
      if (p) problems.push(...p.messages);
    }
    return problems.length ? violation(problems) : undefined;
  }

  /** [spec-dst] "Dataset Schedule Params" and the rules its descriptions state. */
  private checkDatasetSchedule(raw: unknown): string[] {
    if (!isObject(raw)) return ['scheduleParams is required for a dataset flow'];
    if (this.schemas) {
      const schema = runSchema(this.schemas.datasetSchedule, raw, 'destinations.yaml Dataset Schedule Params');
      if (schema) return schema.messages.map((m) => `scheduleParams: ${m}`);
    }
    return checkDatasetScheduleRules(raw);
  }

  /** `profileMapping`: `{}` as created, or [spec-dst] "(Beta) Profile Mapping" naming a profile export set of this sandbox. */
  private checkProfileMapping(value: unknown, sandbox: string): string[] {
    if (value === undefined || (isObject(value) && Object.keys(value).length === 0)) return [];
    if (this.schemas) {
      const schema = runSchema(this.schemas.profileMapping, value, 'destinations.yaml (Beta) Profile Mapping');
      if (schema) return [...schema.messages];
    }
    const v = value as Record<string, unknown>;
    const set = this.mappingSets.get(String(v.mappingId));
    if (!set || set.sandboxName !== sandbox || set.inputSchema === undefined) return [`profileMapping.mappingId ${String(v.mappingId)} is not a profile mapping set of sandbox ${sandbox}`];
    if (!Number.isInteger(v.mappingVersion) || (v.mappingVersion as number) < 0 || (v.mappingVersion as number) > set.version) return ['profileMapping.mappingVersion: Invalid Mapping Version in request'];
    return [];
  }

  private checkMappingRef(t: Record<string, unknown>, target: StoredTargetConnection, sandbox: string): Violation | undefined {
    if (t.name !== 'Mapping' || !isObject(t.params)) return violation('source flow transformations must be {name: "Mapping", params}');
    const set = this.mappingSets.get(String(t.params.mappingId));
    if (!set || set.sandboxName !== sandbox) return violation(`mapping set ${String(t.params.mappingId)} not found in sandbox ${sandbox}`, '1412-400');
    const version = Number(t.params.mappingVersion);
    if (!Number.isInteger(version) || version < 0 || version > set.version) return violation('Invalid Mapping Version in request', '1412-400');
    const schema = isObject(target.data) && isObject(target.data.schema) ? target.data.schema.id : undefined;
    if (set.inputSchema !== undefined || schema !== set.outputSchema.schemaRef?.id) {
      return violation('Error while matching schema in target dataset with schema in mapping. Schema with same id and version must be used in both mapping and target dataset.', '1425-400');
    }
    return undefined;
  }

  /** An audience selector: [spec-dst] "(Beta) Segment Selector" and the rules of DATAFLOWS §4.5. */
  private checkSelector(selector: unknown): string[] {
    if (this.schemas) {
      const schema = runSchema(this.schemas.segmentSelector, selector, 'destinations.yaml (Beta) Segment Selector');
      if (schema) return [...schema.messages];
    }
    return checkSelectorRules(selector);
  }

  private patch(ex: FlowsExchange, sandbox: string, collection: string, id: string, body: unknown): void {
    const store: ResourceStore<StoredResource> = collection === 'flows' ? this.flows : this.sources;
    const item = store.get(id, sandbox);
    if (!item) return this.notFound(ex, collection, id);
    const ifMatch = header(ex.req, 'if-match');
    if (ifMatch === undefined) return this.host.reply(ex, 400, { errorCode: '1403-400', errorMessage: 'If-Match header is required for this request' });
    if (ifMatch !== item.etag) {
      return this.host.reply(ex, 412, { errorCode: '1404-412', errorMessage: `Supplied version=[${ifMatch}] does not match the current version on entity=[${item.etag}]` });
    }
    const structure = runSchema(patchStructure, body, 'JSON Patch array (API-NOTES §3.4)');
    if (structure) return this.host.reject(ex, structure);
    const ops = body as PatchOperation[];
    const allowed = collection === 'flows' ? FLOW_PATCHABLE : [/^\/name$/, /^\/description$/];
    const bad = ops.find((op) => !allowed.some((re) => re.test(op.path)));
    if (bad) return this.host.reject(ex, violation(`${bad.path} cannot be patched on ${collection}`, '1455-400'));
    const refused = collection === 'flows' ? refusedPatchPath((item as StoredFlow).flowSpec.id, ops.map((o) => o.path), this.flowSpecVariant) : undefined;
    if (refused) return this.host.reject(ex, violation(`${refused} cannot be patched whole on a source flow; patch its fields`, '1455-400'));
    let patched: StoredResource;
    try {
      patched = applyPatch(item, ops);
    } catch (err) {
      if (err instanceof PatchError) return this.host.reject(ex, violation(err.message, '1455-400'));
      throw err;
    }
    if (collection === 'flows') {
      const problem = this.checkFlow(patched, sandbox);
      if (problem) return this.host.reject(ex, problem);
      stampSelectors(item as StoredFlow, patched as StoredFlow);
      defaultDatasetEndTime(patched as StoredFlow);
    } else if (typeof patched.name !== 'string' || !patched.name.trim()) {
      return this.host.reject(ex, violation('name is required'));
    }
    const etag = newEtag();
    Object.assign(patched, { updatedAt: this.host.timestamp(), updatedBy: `${this.host.clientId}@AdobeID`, etag, version: etag });
    store.put(patched);
    this.host.reply(ex, 200, { id, etag });
  }

  /** `POST /flows/{id}/action?op=enable|disable` (DATAFLOWS §3.7). */
  private action(ex: FlowsExchange, sandbox: string, id: string): void {
    const flow = this.flows.get(id, sandbox);
    if (!flow) return this.notFound(ex, 'flows', id);
    // Stale-spec exception (§3.7, §6.10): [spec-src] marks `subOp` required and upper-cases `op`;
    // the documented calls send lower-case `op` and no `subOp`. Both cases are accepted.
    const op = (ex.url.searchParams.get('op') ?? '').toLowerCase();
    if (op !== 'enable' && op !== 'disable') return this.host.reject(ex, violation('op must be enable or disable'));
    const ifMatch = header(ex.req, 'if-match');
    if (ifMatch !== undefined && ifMatch !== flow.etag) return this.host.reply(ex, 412, { errorCode: '1404-412', errorMessage: 'Supplied version does not match the current version' });
    const to = op === 'enable' ? 'enabled' : 'disabled';
    if (flow.state === to) return this.host.reject(ex, violation(`The action ${op} cannot be applied on the current state ${flow.state}`, '1422-400'));
    const etag = newEtag();
    const now = this.host.timestamp();
    // The last operation is this action now (aep-runs.ts keeps AEP's own disable there, with its reason).
    this.flows.put({ ...flow, state: to, etag, version: etag, updatedAt: now, lastOperation: { started: now, updated: now, operation: op, status: { value: 'completed', errors: [] } } });
    this.host.reply(ex, 200, { id, etag });
  }

  private remove(ex: FlowsExchange, sandbox: string, collection: string, id: string): void {
    const store: ResourceStore<StoredResource> = collection === 'flows' ? this.flows : this.sources;
    const item = store.get(id, sandbox);
    if (!item) return this.notFound(ex, collection, id);
    if (collection === 'sourceConnections') {
      const flow = this.flows.all().find((f) => f.sourceConnectionIds.includes(id));
      if (flow) return this.host.reject(ex, violation(`Found active flows containing id ${id}: ${flow.id}`, '1447-400'));
    }
    // [spec-src] documents 204, [spec-dst] 202: per side.
    const destination = collection === 'flows'
      ? (item as StoredFlow).flowSpec.id !== DataflowIds.CLOUD_STORAGE_FLOW_SPEC
      : item.connectionSpec.id !== AepIds.S3_SOURCE_CONNECTION_SPEC;
    if (collection === 'flows' && destination) {
      // 202 Accepted: the flow goes later and blocks its connections until then (async-delete.ts).
      this.deletes.accept(id, () => store.delete(id), this.host.defer);
    } else {
      store.delete(id);
    }
    this.host.reply(ex, destination ? 202 : 204, undefined);
  }

  private notFound(ex: FlowsExchange, collection: string, id: string): void {
    this.host.reply(ex, 404, { errorMessage: `${collection === 'flows' ? 'flows' : 'sourceConnections'} not found with id = [${id}]` });
  }

  /** `GET …/entityTypes/_xdm.context.profile?property=fullSchema==true&…` (DATAFLOWS §4.6 step 1). */
  private unionSchema(ex: FlowsExchange): void {
    if (ex.record.method !== 'GET') return this.host.reply(ex, 405, { errorMessage: `${ex.record.method} is not allowed on ${ex.url.pathname}` });
    if (!ex.url.searchParams.getAll('property').includes('fullSchema==true')) {
      return this.host.reject(ex, violation('property=fullSchema==true is required to read the full union schema'));
    }
    this.host.reply(ex, 200, structuredClone(UNION_SCHEMA));
  }

  // ------------------------------------------------------------------ Data Prep (DATAFLOWS §3.4)

  private dataPrep(ex: FlowsExchange, sandbox: string, [collection, id, ...rest]: string[], body: unknown): void {
    const method = ex.record.method;
    if (collection === 'schemas' && id === undefined && rest.length === 0 && method === 'POST') return this.createConversionSchema(ex, sandbox, body);
    if (collection === 'schemas' && id !== undefined && rest.length === 0 && method === 'GET') {
      const schema = this.conversionSchemas.get(id);
      if (!schema || schema.sandboxName !== sandbox) return this.host.reply(ex, 404, { errorMessage: `schema ${id} not found` });
      return this.host.reply(ex, 200, { id: schema.id, version: schema.version, jsonSchema: structuredClone(schema.jsonSchema) });
    }
    if (collection !== 'mappingSets' || rest.length > 0) {
      return this.host.reply(ex, 404, { errorMessage: `stand-in: no route for ${method} ${ex.url.pathname}` });
    }
    if (id === undefined && method === 'POST') return this.createMappingSet(ex, sandbox, body);
    if (id === undefined && method === 'GET') {
      const name = this.mappingSetNameFilter === 'exact' ? ex.url.searchParams.get('name') : null;
      const limit = Number(ex.url.searchParams.get('limit') ?? 10);
      const start = Number(ex.url.searchParams.get('start') ?? 0);
      const data = [...this.mappingSets.values()]
        .filter((s) => s.sandboxName === sandbox && (name === null || s.name === name))
        .sort((a, b) => a.modifiedDate - b.modifiedDate)
        .slice(start, start + limit);
      return this.host.reply(ex, 200, { data: structuredClone(data), _page: { count: data.length, limit } });
    }
    if (id !== undefined && method === 'GET') {
      const set = this.mappingSets.get(id);
      if (!set || set.sandboxName !== sandbox) return this.host.reply(ex, 404, { errorMessage: `mapping set ${id} not found` });
      return this.host.reply(ex, 200, structuredClone(set));
    }
    // No DELETE (and no PATCH) in the Data Prep API.
    this.host.reply(ex, 405, { errorMessage: `${method} is not allowed on ${ex.url.pathname}` });
  }

  /** `POST /conversion/schemas` `{name, jsonSchema}` → `{id, version, jsonSchema}` (DATAFLOWS §4.6 steps 3–4; status not printed: 200 as mapping sets). */
  private createConversionSchema(ex: FlowsExchange, sandbox: string, body: unknown): void {
    if (!isObject(body)) return this.host.reject(ex, violation('body must be a JSON object'));
    if (this.schemas?.conversionSchema) {
      const schema = runSchema(this.schemas.conversionSchema, body, 'data-prep.yaml SchemaRepresentation');
      if (schema) return this.host.reject(ex, schema);
    }
    const json = body.jsonSchema;
    if (!isObject(json) || json.type !== 'object' || !isObject(json.properties)) {
      return this.host.reject(ex, violation('jsonSchema must be a JSON Schema of type object with properties'));
    }
    const stored: StoredConversionSchema = {
      id: randomBytes(16).toString('hex'),
      sandboxName: sandbox,
      version: 0,
      jsonSchema: structuredClone(json),
      ...(typeof body.name === 'string' ? { name: body.name } : {}),
    };
    this.conversionSchemas.set(stored.id, stored);
    this.host.reply(ex, 200, { id: stored.id, version: 0, jsonSchema: structuredClone(json) });
  }

  private createMappingSet(ex: FlowsExchange, sandbox: string, body: unknown): void {
    if (!isObject(body)) return this.host.reject(ex, violation('body must be a JSON object'));
    if (this.schemas?.mappingSet) {
      const schema = runSchema(this.schemas.mappingSet, body, 'data-prep.yaml MappingSet');
      if (schema) return this.host.reject(ex, schema);
    }
    if (body.inputSchema !== undefined) return this.createProfileMappingSet(ex, sandbox, body);
    const problems: string[] = [];
    const ref = isObject(body.outputSchema) && isObject(body.outputSchema.schemaRef) ? body.outputSchema.schemaRef : undefined;
    if (!ref || typeof ref.id !== 'string' || !/^https:\/\/ns\.adobe\.com\//.test(ref.id)) problems.push('outputSchema.schemaRef.id must be an XDM schema $id');
    const mappings = Array.isArray(body.mappings) ? body.mappings : [];
    if (mappings.length === 0) problems.push('mappings must be a non-empty array');
    mappings.forEach((m: unknown, i: number) => {
      if (!isObject(m) || typeof m.source !== 'string' || !m.source || typeof m.destination !== 'string' || !m.destination) {
        problems.push(`mappings[${i}] needs source and destination`);
      } else if (!['ATTRIBUTE', 'EXPRESSION', 'STATIC'].includes(String(m.sourceType))) {
        problems.push(`mappings[${i}].sourceType must be ATTRIBUTE, EXPRESSION or STATIC`);
      }
    });
    if (problems.length) return this.host.reject(ex, violation(problems));
    const now = this.host.timestamp();
    const set: StoredMappingSet = {
      id: randomBytes(16).toString('hex'),
      sandboxName: sandbox,
      ...(typeof body.name === 'string' ? { name: body.name } : {}),
      version: 0,
      createdDate: now,
      modifiedDate: now,
      outputSchema: { schemaRef: { id: String(ref!.id), contentType: typeof ref!.contentType === 'string' ? ref!.contentType : undefined } },
      // Stored mappings come back with `sourceType: "text/x.schema-path"` (DATAFLOWS §3.4).
      mappings: mappings.map((m: Record<string, unknown>) => ({ ...m, sourceType: 'text/x.schema-path', sourceAttribute: m.source, destinationXdmPath: m.destination })),
    };
    this.mappingSets.set(set.id, set);
    this.host.reply(ex, 200, { id: set.id, version: 0, createdDate: now, modifiedDate: now, createdBy: `${this.host.clientId}@AdobeID`, modifiedBy: `${this.host.clientId}@AdobeID` });
  }
  /**
   * A profile export mapping set (DATAFLOWS §4.6 step 5): input and output are Data Prep schemas
   * of this sandbox; every source resolves in the input schema; destinations hold no dots; one
   * identity at most (the translated IMPORTANT box; Adobe's own example lists two).
   */
  private createProfileMappingSet(ex: FlowsExchange, sandbox: string, body: Record<string, unknown>): void {
    const problems: string[] = [];
    const schemaOf = (ref: unknown, what: string) => {
      const found = isObject(ref) && typeof ref.id === 'string' ? this.conversionSchemas.get(ref.id) : undefined;
      if (!found || found.sandboxName !== sandbox) problems.push(`${what}.id must be a Data Prep schema (POST /conversion/schemas) of sandbox ${sandbox}`);
      return found;
    };
    const input = schemaOf(body.inputSchema, 'inputSchema');
    schemaOf(body.outputSchema, 'outputSchema');
    if (body.xdmVersion !== undefined && body.xdmVersion !== '1.0') problems.push('xdmVersion must be "1.0"');
    const mappings = Array.isArray(body.mappings) ? body.mappings : [];
    if (mappings.length === 0) problems.push('mappings must be a non-empty array');
    let identities = 0;
    mappings.forEach((m: unknown, i: number) => {
      if (!isObject(m) || typeof m.source !== 'string' || !m.source || typeof m.destination !== 'string' || !m.destination) {
        problems.push(`mappings[${i}] needs source and destination`);
        return;
      }
      if (m.sourceType !== 'ATTRIBUTE') problems.push(`mappings[${i}].sourceType must be ATTRIBUTE`);
      if (m.destination.includes('.')) problems.push(`mappings[${i}].destination ${m.destination} must not contain dots`);
      if (m.source.startsWith('identityMap.')) identities++;
      if (input && !resolvesIn(input.jsonSchema, m.source)) problems.push(`mappings[${i}].source ${m.source} is not in the input schema`);
    });
    if (identities > 1) problems.push('only one identity attribute can be exported per dataflow');
    if (problems.length) return this.host.reject(ex, violation(problems));
    const now = this.host.timestamp();
    const set: StoredMappingSet = {
      id: randomBytes(16).toString('hex'),
      sandboxName: sandbox,
      ...(typeof body.name === 'string' ? { name: body.name } : {}),
      version: 0,
      createdDate: now,
      modifiedDate: now,
      inputSchema: { id: String((body.inputSchema as Record<string, unknown>).id) },
      outputSchema: { id: String((body.outputSchema as Record<string, unknown>).id) },
      mappings: mappings.map((m: Record<string, unknown>) => ({ ...m, sourceType: 'text/x.schema-path' })),
    };
    this.mappingSets.set(set.id, set);
    this.host.reply(ex, 200, { id: set.id, version: 0, createdDate: now, modifiedDate: now, createdBy: `${this.host.clientId}@AdobeID`, modifiedBy: `${this.host.clientId}@AdobeID` });
  }
}


/** Resolves a mapping source in a JSON Schema; `//.` protects a dot inside an identity namespace (DATAFLOWS §4.6). */
function resolvesIn(schema: Record<string, unknown>, source: string): boolean {
  let node: unknown = schema;
  for (const field of source.split(/(?<!\/\/)\./).map((f) => f.replace(/\/\/\./g, '.'))) {
    if (!isObject(node)) return false;
    const next = isObject(node.properties) ? node.properties[field] : undefined;
    if (next !== undefined) node = next;
    else if (isObject(node.additionalProperties)) node = node.additionalProperties;
    else return false;
  }
  return true;
}

/** The S3 source connection rules (DATAFLOWS §3.2). */
function checkS3Source(body: Record<string, unknown>, base: (id: string) => StoredResource | undefined): Violation | undefined {
  const problems: string[] = [];
  const baseConnection = typeof body.baseConnectionId === 'string' ? base(body.baseConnectionId) : undefined;
  if (!baseConnection || baseConnection.connectionSpec.id !== AepIds.S3_SOURCE_CONNECTION_SPEC) {
    problems.push('baseConnectionId must be an S3 source base connection in this sandbox');
  }
  const data = isObject(body.data) ? body.data : {};
  const format = data.format;
  if (!['delimited', 'json', 'parquet'].includes(String(format))) problems.push('data.format must be delimited, json or parquet');
  const props = isObject(data.properties) ? data.properties : {};
  for (const key of Object.keys(props)) {
    if (!['columnDelimiter', 'encoding', 'compressionType'].includes(key)) problems.push(`data.properties.${key} is not a known property`);
  }
  if (props.columnDelimiter !== undefined && (format !== 'delimited' || typeof props.columnDelimiter !== 'string' || props.columnDelimiter.length !== 1)) {
    problems.push('data.properties.columnDelimiter must be a single character, delimited files only');
  }
  if (props.encoding !== undefined && (format !== 'delimited' || !['UTF-8', 'ISO-8859-1'].includes(String(props.encoding)))) {
    problems.push('data.properties.encoding must be UTF-8 or ISO-8859-1, delimited files only');
  }
  if (props.compressionType !== undefined && (format === 'parquet' || !['bzip2', 'gzip', 'deflate', 'zipDeflate', 'tarGzip', 'tar'].includes(String(props.compressionType)))) {
    problems.push('data.properties.compressionType must be bzip2, gzip, deflate, zipDeflate, tarGzip or tar, delimited or JSON files only');
  }
  const params = isObject(body.params) ? body.params : {};
  if (typeof params.path !== 'string' || !params.path) problems.push('params.path is required');
  if (params.type !== undefined && !['file', 'folder'].includes(String(params.type))) problems.push('params.type must be file or folder');
  // Adobe's wildcard example (`/acme/summerCampaign/*premium*.csv`) is a folder ingest (DATAFLOWS §3.2).
  if (String(params.path).includes('*') && params.type === 'file') problems.push('params.path with a wildcard selects files in a folder: params.type must be folder');
  if (params.recursive !== undefined && typeof params.recursive !== 'boolean') problems.push('params.recursive must be a boolean');
  return problems.length ? violation(problems) : undefined;
}

/** `scheduleSpec` of `CloudStorageToAEP` (DATAFLOWS §1.4, §3.5); [spec-src] types `interval` as a string. */
function checkSchedule(raw: unknown): string[] {
  if (!isObject(raw)) return ['scheduleParams is required'];
  const problems: string[] = [];
  if (!Number.isInteger(raw.startTime)) problems.push('scheduleParams.startTime must be an integer (epoch seconds)');
  else if ((raw.startTime as number) > 1e11) problems.push('scheduleParams.startTime is in epoch seconds, not milliseconds');
  const frequency = raw.frequency;
  if (!['once', 'minute', 'hour', 'day', 'week'].includes(String(frequency))) problems.push('scheduleParams.frequency must be once, minute, hour, day or week');
  if (frequency === 'once') {
    if (raw.interval !== undefined || raw.backfill !== undefined) problems.push('scheduleParams: interval and backfill are not allowed with frequency once');
  } else {
    const interval = Number(raw.interval);
    if (raw.interval === undefined || !Number.isInteger(interval)) problems.push('scheduleParams.interval is required unless frequency is once');
    else if (frequency === 'minute' && interval < 15) problems.push('scheduleParams.interval must be at least 15 for frequency minute');
    else if (interval < 1) problems.push('scheduleParams.interval must be at least 1');
  }
  if (raw.backfill !== undefined && typeof raw.backfill !== 'boolean') problems.push('scheduleParams.backfill must be a boolean');
  return problems;
}

/** DATAFLOWS §4.5 rules the schema does not carry. */
export function checkSelectorRules(selector: unknown): string[] {
  if (!isObject(selector) || selector.type !== 'PLATFORM_SEGMENT' || !isObject(selector.value)) return ['must be {type: "PLATFORM_SEGMENT", value: {...}}'];
  const v = selector.value;
  const problems: string[] = [];
  if (typeof v.id !== 'string' || !v.id) problems.push('value.id is required');
  const mode = String(v.exportMode);
  if (!FREQUENCIES[mode]) return [...problems, 'value.exportMode must be DAILY_FULL_EXPORT or FIRST_FULL_THEN_INCREMENTAL'];
  const s = isObject(v.schedule) ? v.schedule : undefined;
  if (!s) return [...problems, 'value.schedule is required'];
  if (!FREQUENCIES[mode].includes(String(s.frequency))) problems.push(`value.schedule.frequency must be one of ${FREQUENCIES[mode].join(', ')} with ${mode}`);
  if (mode === 'DAILY_FULL_EXPORT') {
    if (!['AFTER_SEGMENT_EVAL', 'SCHEDULED'].includes(String(s.triggerType))) problems.push('value.schedule.triggerType is required with DAILY_FULL_EXPORT');
    if (s.triggerType === 'SCHEDULED' && s.startTime === undefined) problems.push('value.schedule.startTime is required with triggerType SCHEDULED');
    if (s.triggerType === 'AFTER_SEGMENT_EVAL' && s.startTime !== undefined) problems.push('value.schedule.startTime does not apply with AFTER_SEGMENT_EVAL');
    if (s.frequency === 'ONCE' && s.endDate !== undefined) problems.push('value.schedule.endDate does not apply with DAILY_FULL_EXPORT and ONCE');
  }
  if (s.startTime !== undefined && !/^([01]\d|2[0-3]):00$/.test(String(s.startTime))) problems.push('value.schedule.startTime must be HH:00 (UTC, minutes 00)');
  for (const key of ['startDate', 'endDate']) {
    if (s[key] !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(String(s[key]))) problems.push(`value.schedule.${key} must be YYYY-MM-DD`);
  }
  if (typeof s.startDate !== 'string') problems.push('value.schedule.startDate is required');
  if (typeof s.startDate === 'string' && typeof s.endDate === 'string' && s.endDate < s.startDate) problems.push('value.schedule.endDate is before startDate');
  if (v.fileNameTemplate !== undefined) {
    for (const macro of String(v.fileNameTemplate).match(/%[^%]*%/g) ?? []) {
      const name = macro.slice(1, -1);
      // `%custom-text%` stands for free text in [spec-dst]; anything else must be a known macro.
      if (!FILE_NAME_MACROS.has(name) && /^[A-Z_()]+$/.test(name)) problems.push(`value.fileNameTemplate: unknown macro ${macro}`);
    }
  }
  return problems;
}

/** AEP's system fields on selectors: `createTime` when added, `updateTime` when changed (epoch-second strings). */
function stampSelectors(before: StoredFlow, after: StoredFlow): void {
  const selectorsOf = (f: StoredFlow) => {
    const s = f.transformations[0]?.params?.segmentSelectors;
    return isObject(s) && Array.isArray(s.selectors) ? s.selectors as Array<{ value: Record<string, unknown> }> : [];
  };
  const previous = new Map(selectorsOf(before).map((s) => [String(s.value.id), JSON.stringify(s.value)]));
  const now = String(Math.floor(Date.now() / 1000));
  for (const s of selectorsOf(after)) {
    const was = previous.get(String(s.value.id));
    if (was === undefined) {
      s.value.createTime = now;
      s.value.updateTime = now;
    } else if (was !== JSON.stringify(s.value)) {
      s.value.updateTime = now;
    }
  }
}

/** Extra rules of a Data Lake target connection (DATAFLOWS §3.3), on top of flow-service.yaml. */
export function checkDatasetTarget(body: Record<string, unknown>): Violation | undefined {
  if (!isObject(body.connectionSpec) || body.connectionSpec.id !== DataflowIds.DATA_LAKE_TARGET_CONNECTION_SPEC) return undefined;
  const problems: string[] = [];
  const schema = isObject(body.data) && isObject(body.data.schema) ? body.data.schema : undefined;
  if (!schema || typeof schema.id !== 'string' || !/^https:\/\/ns\.adobe\.com\/[^/]+\/schemas\/[0-9a-f]+$/.test(schema.id)) {
    problems.push('data.schema.id must be an XDM schema $id (https://ns.adobe.com/<tenant>/schemas/<hex>)');
  }
  if (schema && typeof schema.version !== 'string') problems.push('data.schema.version is required');
  const params = isObject(body.params) ? body.params : {};
  if (typeof params.dataSetId !== 'string' || !/^[0-9a-f]{24}$/.test(params.dataSetId)) problems.push('params.dataSetId must be a dataset id (24 hex characters)');
  return problems.length ? violation(problems) : undefined;
}

/** The Data Lake source connection rules (DATAFLOWS §4.2) the schema does not carry. */
function checkDataLakeSource(body: Record<string, unknown>): Violation | undefined {
  const problems: string[] = [];
  const extra = ['baseConnectionId', 'data'].filter((k) => body[k] !== undefined);
  if (extra.length) problems.push(`a Data Lake source connection takes no ${extra.join(', ')}`);
  const datasets = isObject(body.params) && Array.isArray(body.params.datasets) ? body.params.datasets : undefined;
  // Inference: a source connection without datasets exports nothing and cannot be changed later.
  if (!datasets || datasets.length === 0) problems.push('params.datasets must list at least one dataset');
  const seen = new Set<string>();
  (datasets ?? []).forEach((d: unknown, i: number) => {
    const id = isObject(d) ? d.dataSetId : undefined;
    if (typeof id !== 'string' || !/^[0-9a-f]{24}$/.test(id)) problems.push(`params.datasets[${i}].dataSetId must be a dataset id (24 hex characters)`);
    else if (seen.has(id)) problems.push(`params.datasets[${i}].dataSetId ${id} is listed twice`);
    else seen.add(id);
  });
  return problems.length ? violation(problems) : undefined;
}

/**
 * Folder-name macros ([spec-dst] "Dataset Schedule Params"); `DESTINATION_NAME` is in the same
 * schema's example though not in its list.
 */
const FOLDER_NAME_MACROS = new Set([
  'DESTINATION', 'DESTINATION_NAME', 'DATASET_NAME', 'DATASET_ID', 'DESTINATION_INSTANCE_ID', 'DESTINATION_INSTANCE_NAME',
  'SANDBOX_NAME', 'DATETIME(YYYYMMdd_HHmmss)', 'EXPORT_TIME',
]);

/** What "Dataset Schedule Params" says in prose: the frequencies, the export modes, seconds not milliseconds. */
export function checkDatasetScheduleRules(s: Record<string, unknown>): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(s.startTime)) problems.push('scheduleParams.startTime must be an integer (epoch seconds)');
  else if ((s.startTime as number) > 1e11) problems.push('scheduleParams.startTime is in epoch seconds, not milliseconds');
  if (s.endTime !== undefined) {
    if (!Number.isInteger(s.endTime)) problems.push('scheduleParams.endTime must be an integer (epoch seconds)');
    else if ((s.endTime as number) > 1e11) problems.push('scheduleParams.endTime is in epoch seconds, not milliseconds');
    else if (Number.isInteger(s.startTime) && (s.endTime as number) <= (s.startTime as number)) problems.push('scheduleParams.endTime must be after startTime');
  }
  // The prose says "only 3,6,9, or 12-hour and 1-day frequencies are supported"; since July 2026
  // incremental dataset exports may also run every hour (API-NOTES §10), which the interval enum
  // (1, 3, 6, 9, 12) already allows.
  if (s.timeUnit === 'hour' && ![1, 3, 6, 9, 12].includes(s.interval as number)) problems.push('scheduleParams.interval must be 1, 3, 6, 9 or 12 with timeUnit hour');
  if (s.timeUnit === 'day' && s.interval !== 1) problems.push('scheduleParams.interval must be 1 with timeUnit day');
  // DAILY_FULL_EXPORT "can only be used in combination with timeUnit: day and interval: 0", which the
  // interval enum excludes; "Daily full exports of datasets are not supported".
  if (s.exportMode === 'DAILY_FULL_EXPORT') problems.push('scheduleParams.exportMode DAILY_FULL_EXPORT: daily full exports of datasets are not supported');
  if (s.folderNameTemplate !== undefined) {
    for (const macro of String(s.folderNameTemplate).match(/%[^%]*%/g) ?? []) {
      if (!FOLDER_NAME_MACROS.has(macro.slice(1, -1))) problems.push(`scheduleParams.folderNameTemplate: unknown macro ${macro}`);
    }
  }
  return problems;
}

/**
 * "Dataset export dataflows created without endTime default to ending six months after creation"
 * (API-NOTES §5.7; DATAFLOWS §6.14: not in every revision). Inference: a schedule replaced without
 * an endTime gets the same default, counted from the flow's creation.
 */
function defaultDatasetEndTime(flow: StoredFlow): void {
  if (flow.flowSpec.id !== DataflowIds.S3_DATASET_FLOW_SPEC || !isObject(flow.scheduleParams) || flow.scheduleParams.endTime !== undefined) return;
  const end = new Date(Number(flow.createdAt));
  end.setUTCMonth(end.getUTCMonth() + 6);
  flow.scheduleParams.endTime = Math.floor(end.getTime() / 1000);
}
