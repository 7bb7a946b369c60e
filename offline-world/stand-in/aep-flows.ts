/**
 * Flow Service flows and what they are built on (DATAFLOWS.md): flow specs, flows (create, read,
 * PATCH with If-Match including audience selectors, enable/disable, delete) and runs, with the
 * reads, PATCH and DELETE shared by source connections. Request bodies are checked against Adobe's
 * OpenAPI schemas and then the documented rules (aep-flow-rules.ts). Source connections, Data Prep
 * and runs have their own files (aep-source-connections.ts, aep-data-prep.ts, aep-runs.ts).
 */
import type * as http from 'node:http';
import { AepDataPrep, DATA_PREP_PATH, UNION_SCHEMA_PATH, type StoredConversionSchema, type StoredMappingSet } from './aep-data-prep';
import {
  checkDatasetScheduleRules, checkSchedule, checkSelectorRules, defaultDatasetEndTime, stampSelectors,
} from './aep-flow-rules';
import type { FlowSchemas } from './aep-flow-schemas';
import { isObject, Violation, violation } from './aep-rules';
import { AepRuns, type RunInput, type StoredRun } from './aep-runs';
import { AepSourceConnections, serverSetSourceFields, type StoredSourceConnection } from './aep-source-connections';
import { newEtag, ResourceStore, StoredResource, StoredTargetConnection } from './aep-store';
import { newAjv, PATCH_BODY_SCHEMA, runSchema } from './aep-validation';
import { AsyncDeletes, Defer } from './async-delete';
import {
  DEFAULT_FLOW_SPEC_VARIANT, flowSpecDocuments, type FlowSpecVariant, mappingVersionProblems, readBack, refusedPatchPath,
  scheduleTypeProblems, schemaView,
} from './flow-specs';
import { header, mediaType } from './http';
import { applyPatch, PatchError, PatchOperation } from './json-patch';
import { AepIds, DataflowIds } from '../../src/private/contract';

// What this module exported before the split, so importers keep working.
export { DATA_PREP_PATH, S3_PARTNER_SCHEMA, UNION_SCHEMA, UNION_SCHEMA_PATH } from './aep-data-prep';
export type { StoredConversionSchema, StoredMappingSet } from './aep-data-prep';
export { checkDatasetScheduleRules, checkSelectorRules } from './aep-flow-rules';
export { loadFlowSchemas, type FlowSchemas } from './aep-flow-schemas';
export { checkDatasetTarget, type StoredSourceConnection } from './aep-source-connections';

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

/** A flow as stored (`connectionSpec` is unused: flows have a `flowSpec`). */
export interface StoredFlow extends StoredResource {
  flowSpec: { id: string; version: string };
  sourceConnectionIds: string[];
  targetConnectionIds: string[];
  transformations: Array<{ name: string; params: Record<string, unknown> }>;
  scheduleParams?: Record<string, unknown>;
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

const patchStructure = newAjv().compile(PATCH_BODY_SCHEMA);

/** Source connections, flows, flow specs, runs and mapping sets of one stand-in. */
export class AepFlows {
  readonly sources: ResourceStore<StoredSourceConnection>;
  readonly flows = new ResourceStore<StoredFlow>(['id', 'name', 'flowSpec.id', 'state', 'sourceConnectionIds[]', 'targetConnectionIds[]', 'createdAt', 'updatedAt']);
  readonly mappingSets: Map<string, StoredMappingSet>;
  readonly conversionSchemas: Map<string, StoredConversionSchema>;
  /** Runs, the world clock and AEP's 30-day auto-disable rule (aep-runs.ts). */
  readonly runs = new AepRuns({ flows: () => this.flows.all(), putFlow: (flow) => this.flows.put(flow as StoredFlow) });
  /** Destination flow deletions accepted (202) and not carried out yet; `delayMs` is settable per test. */
  readonly deletes: AsyncDeletes;
  /** The documented variant of the flow specs served and enforced (flow-specs.ts); back to the default on {@link clear}. */
  flowSpecVariant: FlowSpecVariant = DEFAULT_FLOW_SPEC_VARIANT;
  private readonly sourceConnections: AepSourceConnections;
  private readonly dataPrep: AepDataPrep;

  constructor(private readonly host: FlowsHost, private readonly schemas: FlowSchemas | undefined, flowDeleteDelayMs?: number) {
    this.deletes = new AsyncDeletes(flowDeleteDelayMs);
    this.sourceConnections = new AepSourceConnections(host, schemas);
    this.sources = this.sourceConnections.store;
    this.dataPrep = new AepDataPrep(host, schemas);
    this.mappingSets = this.dataPrep.mappingSets;
    this.conversionSchemas = this.dataPrep.conversionSchemas;
  }

  /**
   * How `GET /mappingSets?name=` filters (guess 20 of the README: the Data Prep OpenAPI says only
   * "Filter the mapping sets by name"): `exact`, or `ignored` (every set of the sandbox, oldest
   * first, `limit` per page from `start`), the reading under which a lookup must page.
   */
  get mappingSetNameFilter(): 'exact' | 'ignored' {
    return this.dataPrep.nameFilter;
  }

  set mappingSetNameFilter(filter: 'exact' | 'ignored') {
    this.dataPrep.nameFilter = filter;
  }

  clear(): void {
    this.flowSpecVariant = DEFAULT_FLOW_SPEC_VARIANT;
    this.deletes.clear();
    this.sources.clear();
    this.flows.clear();
    this.dataPrep.clear();
    this.runs.clear();
  }

  /**
   * The dataflow side of a crowded sandbox (issue 19, {@link AepStandIn.crowd}): per target
   * connection, the audience export a person makes in the AEP UI on it: a Profile Store source
   * connection and an S3 audience flow from it to the target, exporting three audiences, no
   * adoption marker. Stored directly, stamped like the targets (`newer`: an hour ahead).
   */
  crowd(targetIds: readonly string[], sandbox: string, newer: boolean): void {
    const spec = { id: DataflowIds.PROFILE_STORE_SOURCE_SPEC, version: '1.0' };
    const ahead = (i: number) => (newer ? { createdAt: Date.now() + 3_600_000 + i, updatedAt: Date.now() + 3_600_000 + i } : {});
    const now = String(Math.floor(Date.now() / 1000));
    targetIds.forEach((targetId, i) => {
      // Stored as a POST AEP accepted would store them (same builders), then dated.
      const sourceInput = { name: `ui-export-${i} profiles`, connectionSpec: spec };
      const source: StoredSourceConnection = { ...this.host.newResource(sandbox, sourceInput), ...serverSetSourceFields(sourceInput), ...ahead(i) };
      this.sources.put(source);
      const selectors = [0, 1, 2].map((a) => ({
        type: 'PLATFORM_SEGMENT',
        value: { id: `ui-audience-${i}-${a}`, name: `UI audience ${i}/${a}`, filenameTemplate: '%SEGMENT_ID%_%DATETIME(YYYYMMdd_HHmmss)%', exportMode: 'DAILY_FULL_EXPORT', schedule: { frequency: 'DAILY', startDate: '2025-01-05', triggerType: 'AFTER_SEGMENT_EVAL' }, createTime: now, updateTime: now },
      }));
      this.flows.put({
        ...this.storedFlow(sandbox, {
          name: `ui-export-${i}`,
          description: 'Made in the AEP UI',
          flowSpec: { id: DataflowIds.S3_AUDIENCE_FLOW_SPEC, version: '1.0' },
          sourceConnectionIds: [source.id],
          targetConnectionIds: [targetId],
          transformations: [{ name: 'GeneralTransform', params: { mandatoryFields: [], primaryFields: [], profileMapping: {}, segmentSelectors: { selectors } } }],
        }),
        ...ahead(i),
      });
    });
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
      this.withBody(ex, (sandbox, body) => this.dataPrep.handle(ex, sandbox, pathname.substring(DATA_PREP_PATH.length).split('/').slice(1), body));
      return true;
    }
    if (pathname === UNION_SCHEMA_PATH) {
      this.withBody(ex, () => this.dataPrep.unionSchema(ex));
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
      if (id === undefined && method === 'POST') return collection === 'flows' ? this.createFlow(ex, sandbox, body) : this.sourceConnections.create(ex, sandbox, body);
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

  // ------------------------------------------------------------------ flows

  private createFlow(ex: FlowsExchange, sandbox: string, body: unknown): void {
    if (isObject(body) && body.state !== undefined) {
      return this.host.reject(ex, violation('`State` is not allowed in the create flow request.', '1410-400'));
    }
    const problem = this.checkFlowRequest(body) ?? this.checkFlow(body as Record<string, unknown>, sandbox);
    if (problem) return this.host.reject(ex, problem);
    const item = this.storedFlow(sandbox, body as Record<string, unknown>);
    this.flows.put(item);
    this.host.lagVisibility(ex, this.flows, item.id);
    this.host.reply(ex, 201, { id: item.id, etag: item.etag });
  }

  /** The flow AEP stores for a create request it accepted: what every created flow looks like. */
  private storedFlow(sandbox: string, input: Record<string, unknown>): StoredFlow {
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
    return item;
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
        const mappingProblem = this.dataPrep.mappingRefProblem(t, target!, sandbox);
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
    problems.push(...this.dataPrep.profileMappingProblems(t.params.profileMapping, sandbox));
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
}
