/**
 * The kind of each Flow Service object (what AEP cannot patch), from the desired properties and
 * from what AEP returns. Shared by the handler (create-or-adopt, twins, Update) and `plan`.
 */
import type { FlowItem, FlowKind } from './decision';
import { canonical, optionalObject, optionalString, projectLike, type RawProps, requireString } from '../plumbing/props';
import { ConnectionProps, DataflowConnectionProps, DataflowIds, FlowProps, TargetConnectionProps } from '../private/contract';

/** A base connection's kind: its connection spec and auth type (AEP refuses to patch either: `1414-400`). */
export function connectionKind(specId: string, authSpecName: string): FlowKind {
  return { key: canonical({ specId, authSpecName }), filters: [`connectionSpec.id==${specId}`] };
}

/** The base connection kind the properties ask for. */
export function desiredConnectionKind(props: RawProps): FlowKind {
  return connectionKind(requireString(props, ConnectionProps.CONNECTION_SPEC_ID), requireString(props, ConnectionProps.AUTH_SPEC_NAME));
}

/** The kind of a base connection as AEP returns it. */
export function connectionKindOf(item: FlowItem): FlowKind {
  const spec = (item.connectionSpec as { id?: unknown } | undefined)?.id;
  const auth = (item.auth as { specName?: unknown } | undefined)?.specName;
  return connectionKind(String(spec), String(auth));
}

/** The kind of a target connection: its base connection and connection spec (AEP cannot patch either). */
export function targetKind(baseConnectionId: string, specId: string): FlowKind {
  return {
    key: canonical({ baseConnectionId, specId }),
    filters: [`baseConnectionId==${baseConnectionId}`, `connectionSpec.id==${specId}`],
  };
}

/** The target connection kind the properties ask for. */
export function desiredTargetKind(props: RawProps): FlowKind {
  return targetKind(requireString(props, TargetConnectionProps.BASE_CONNECTION_ID), requireString(props, TargetConnectionProps.CONNECTION_SPEC_ID));
}

/** The kind of a target connection as AEP returns it. */
export function targetKindOf(item: FlowItem): FlowKind {
  return targetKind(String(item.baseConnectionId), String((item.connectionSpec as { id?: unknown } | undefined)?.id));
}

/**
 * A flow's kind: its source and target connections. A dataset export's kind leaves the source
 * out (`sourceConnectionId` undefined): AEP re-points it in place (`replace /sourceConnectionIds`).
 */
export function flowKind(sourceConnectionId: string | undefined, targetConnectionId: string): FlowKind {
  if (sourceConnectionId === undefined) {
    return { key: canonical({ datasetExport: true, targetConnectionId }), filters: [`targetConnectionIds[]==${targetConnectionId}`] };
  }
  return {
    key: canonical({ sourceConnectionId, targetConnectionId }),
    filters: [`sourceConnectionIds[]==${sourceConnectionId}`, `targetConnectionIds[]==${targetConnectionId}`],
  };
}

/** The flow kind the properties ask for. */
export function desiredFlowKind(props: RawProps): FlowKind {
  const datasetExport = optionalObject(props, FlowProps.DATASET_SCHEDULE) !== undefined;
  const source = datasetExport ? undefined : requireString(props, FlowProps.SOURCE_CONNECTION_ID);
  return flowKind(source, requireString(props, FlowProps.TARGET_CONNECTION_ID));
}

/** The kind of a flow as AEP returns it. */
export function flowKindOf(item: FlowItem): FlowKind {
  const first = (v: unknown) => (Array.isArray(v) && v.length === 1 ? String(v[0]) : canonical(v));
  const datasetExport = (item.flowSpec as { id?: unknown } | undefined)?.id === DataflowIds.S3_DATASET_FLOW_SPEC;
  return flowKind(datasetExport ? undefined : first(item.sourceConnectionIds), first(item.targetConnectionIds));
}

/** The unchangeable part of a dataflow's source or Data Lake target connection. */
export interface DataflowConnectionShape {
  readonly specId: string;
  readonly baseConnectionId?: string;
  readonly data?: Record<string, unknown>;
  readonly params?: Record<string, unknown>;
}

/**
 * A dataflow connection's kind: spec, base connection, `data` and `params` (AEP documents no
 * change to them, so a change replaces the connection).
 */
export function dataflowConnectionKind(specId: string, baseConnectionId: string | undefined, data: unknown, params: unknown): FlowKind {
  return {
    key: canonical({ specId, baseConnectionId: baseConnectionId ?? null, data: data ?? null, params: params ?? null }),
    filters: [`connectionSpec.id==${specId}`, ...(baseConnectionId ? [`baseConnectionId==${baseConnectionId}`] : [])],
  };
}

/** The unchangeable part the properties ask for; a Data Lake target (`sourceSide` false) has no base connection. */
export function desiredDataflowConnection(props: RawProps, sourceSide: boolean): DataflowConnectionShape {
  return {
    specId: requireString(props, DataflowConnectionProps.CONNECTION_SPEC_ID),
    baseConnectionId: sourceSide ? optionalString(props, DataflowConnectionProps.BASE_CONNECTION_ID) : undefined,
    data: decodeBooleans(optionalObject(props, DataflowConnectionProps.DATA)),
    params: decodeBooleans(optionalObject(props, DataflowConnectionProps.PARAMS)),
  };
}

/** The kind of a {@link DataflowConnectionShape}. */
export function dataflowConnectionKindOfShape(d: DataflowConnectionShape): FlowKind {
  return dataflowConnectionKind(d.specId, d.baseConnectionId, d.data, d.params);
}

/** The kind of a dataflow connection as AEP returns it. */
export function dataflowConnectionKindOf(item: FlowItem): FlowKind {
  const base = typeof item.baseConnectionId === 'string' ? item.baseConnectionId : undefined;
  return dataflowConnectionKind(String((item.connectionSpec as { id?: unknown } | undefined)?.id), base, item.data, item.params);
}

/**
 * The kind of an AEP object seen through the desired state: only the `data`/`params` keys the
 * stack sets are compared (AEP may add defaults or fields of its own, or echo `5` for `"5"`), so
 * a rename is never mistaken for a change of what the connection reads.
 */
export function dataflowConnectionKindAs(item: FlowItem, d: DataflowConnectionShape): FlowKind {
  const base = typeof item.baseConnectionId === 'string' ? item.baseConnectionId : undefined;
  const specId = String((item.connectionSpec as { id?: unknown } | undefined)?.id);
  return dataflowConnectionKind(specId, base, projectLike(item.data, d.data), projectLike(item.params, d.params));
}

/** CloudFormation turned booleans into strings (contract serialization rule); AEP wants JSON booleans. */
export function decodeBooleans(value: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!value) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = v === 'true' ? true : v === 'false' ? false : v && typeof v === 'object' && !Array.isArray(v) ? decodeBooleans(v as Record<string, unknown>) : v;
  }
  return out;
}
