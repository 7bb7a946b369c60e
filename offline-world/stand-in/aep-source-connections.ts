/**
 * Flow Service source connections: S3 for ingestion (DATAFLOWS §3.2), Profile Store and Data Lake
 * for exports (§4.2, destinations.yaml `SourceConnectionItem`), checked against Adobe's schemas
 * and then the documented rules; also the Data Lake target connection rule of ingestion (§3.3).
 */
import type { FlowSchemas } from './aep-flow-schemas';
import type { FlowsExchange, FlowsHost } from './aep-flows';
import { isObject, Violation, violation } from './aep-rules';
import { ResourceStore, StoredResource } from './aep-store';
import { runSchema } from './aep-validation';
import { AepIds, DataflowIds } from '../../src/private/contract';

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
export function serverSetSourceFields(input: Record<string, unknown>): Pick<StoredSourceConnection, 'typeInfo' | 'inheritedAttributes'> {
  const specId = (input.connectionSpec as { id?: unknown } | undefined)?.id;
  if (specId === DataflowIds.PROFILE_STORE_SOURCE_SPEC) return { typeInfo: { type: 'ProfileFragments', id: 'ups' }, inheritedAttributes: {} };
  if (specId === DataflowIds.DATA_LAKE_SOURCE_SPEC) return { inheritedAttributes: {} };
  return {};
}
/** Creates and checks source connections; reads, PATCH and DELETE are shared with flows (aep-flows.ts). */
export class AepSourceConnections {
  readonly store = new ResourceStore<StoredSourceConnection>(['id', 'name', 'connectionSpec.id', 'baseConnectionId', 'state', 'createdAt', 'updatedAt']);

  constructor(private readonly host: FlowsHost, private readonly schemas: FlowSchemas | undefined) {}

  /** `POST /sourceConnections` (DATAFLOWS §3.2, §4.2). */
  create(ex: FlowsExchange, sandbox: string, body: unknown): void {
    const problem = this.check(body, sandbox);
    if (problem) return this.host.reject(ex, problem);
    const input = body as Record<string, unknown>;
    const item: StoredSourceConnection = {
      ...this.host.newResource(sandbox, input),
      ...(input.baseConnectionId !== undefined ? { baseConnectionId: String(input.baseConnectionId) } : {}),
      ...(input.data !== undefined ? { data: structuredClone(input.data) as Record<string, unknown> } : {}),
      ...(input.params !== undefined ? { params: structuredClone(input.params) as Record<string, unknown> } : {}),
      ...serverSetSourceFields(input),
    };
    this.store.put(item);
    this.host.lagVisibility(ex, this.store, item.id);
    this.host.reply(ex, 201, { id: item.id, etag: item.etag });
  }

  private check(body: unknown, sandbox: string): Violation | undefined {
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
