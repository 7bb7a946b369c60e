import type { AepClient } from '../aep/aep-client';
import { generalTransformName, type LiveFlowSpec, parseFlowSpec } from '../aep/flow-specs';
import { errorMessage } from '../plumbing/log';
import { AepIds, DataflowIds } from '../private/contract';

/**
 * What this sandbox's flow specs say about the dataflow details Adobe's documents disagree on
 * (DATAFLOWS §6.1, §6.4, §6.8), read with the parser the handler uses: the doctor prints exactly
 * what a deploy would follow.
 */

/** One finding (the shape of doctor.ts's `Finding`). */
export interface FlowSpecFinding {
  readonly question: string;
  readonly topic: string;
  readonly settled: boolean;
  readonly answer: string;
}

const FLOW_SPECS = [
  { key: 'ingestion', id: DataflowIds.CLOUD_STORAGE_FLOW_SPEC, label: 'S3 ingestion (CloudStorageToAEP)', source: AepIds.S3_SOURCE_CONNECTION_SPEC, target: DataflowIds.DATA_LAKE_TARGET_CONNECTION_SPEC },
  { key: 'audiences', id: DataflowIds.S3_AUDIENCE_FLOW_SPEC, label: 'S3 audience export', source: DataflowIds.PROFILE_STORE_SOURCE_SPEC, target: AepIds.S3_DESTINATION_CONNECTION_SPEC },
  { key: 'datasets', id: DataflowIds.S3_DATASET_FLOW_SPEC, label: 'S3 dataset export', source: DataflowIds.DATA_LAKE_SOURCE_SPEC, target: AepIds.S3_DESTINATION_CONNECTION_SPEC },
] as const;

/** Reads the three flow specs the library uses; a spec that cannot be read is an `info` check, not a problem. */
export async function flowSpecFindings(
  client: Pick<AepClient, 'request'>, add: (id: string, status: 'ok' | 'info' | 'warning' | 'problem', message: string) => void,
): Promise<FlowSpecFinding[]> {
  const specs: Partial<Record<(typeof FLOW_SPECS)[number]['key'], LiveFlowSpec>> = {};
  const out: FlowSpecFinding[] = [];
  for (const s of FLOW_SPECS) {
    try {
      const res = await client.request('GET', `/flowSpecs/${s.id}`);
      const item = ((res.data as { items?: unknown[] } | undefined)?.items ?? [])[0];
      if (!item || typeof item !== 'object') throw new Error('no item in the answer');
      const spec = parseFlowSpec(item as Record<string, unknown>);
      specs[s.key] = spec;
      add(`flow-spec-${s.key}`, 'ok', `read the ${s.label} flow spec ${s.id} (GET /flowSpecs/${s.id})`);
      const lists = [['source', s.source, spec.sourceConnectionSpecIds], ['target', s.target, spec.targetConnectionSpecIds]] as const;
      const refused = lists.filter(([, id, list]) => list && !list.includes(id));
      out.push({
        question: `flow-spec-${s.key}-connections`,
        topic: `${s.label} flow spec connection spec lists`,
        settled: !!spec.sourceConnectionSpecIds && !!spec.targetConnectionSpecIds,
        answer: refused.length ? `the live spec does NOT accept ${refused.map(([k, id]) => `${k} connection spec ${id}`).join(' or ')}: the handler refuses to create this dataflow`
          : lists.map(([k, , list]) => (list ? `${k} list ${JSON.stringify(list)}` : `no ${k} list (not checked)`)).join('; '),
      });
    } catch (err) {
      add(`flow-spec-${s.key}`, 'info', `could not read the ${s.label} flow spec (GET /flowSpecs/${s.id}): ${errorMessage(err)}`);
    }
  }
  const unread = (label: string) => `not settled: the ${label} flow spec could not be read`;
  const audiences = specs.audiences;
  out.push({
    question: 'transformation-name',
    topic: 'audience flow transformation name (GeneralTransform vs General Transform)',
    settled: !!audiences && audiences.transformationNames.length > 0,
    answer: !audiences ? unread('audience export')
      : audiences.transformationNames.length ? `the live spec declares ${JSON.stringify(audiences.transformationNames)}: the handler sends '${generalTransformName(audiences)}'`
        : `the live spec declares no transformation: the handler sends '${generalTransformName(audiences)}' (the examples' spelling)`,
  });
  const ingestion = specs.ingestion;
  out.push({
    question: 'schedule-types',
    topic: 'source schedule startTime/interval types',
    settled: !!ingestion?.scheduleTypes.interval,
    answer: !ingestion ? unread('ingestion')
      : `scheduleSpec declares startTime ${ingestion.scheduleTypes.startTime ?? '(undeclared: integer sent)'}, interval ${ingestion.scheduleTypes.interval ?? '(undeclared: string sent)'}`,
  });
  out.push({
    question: 'mapping-version-type',
    topic: 'source flow Mapping mappingVersion type',
    settled: !!ingestion?.mappingVersionType,
    answer: !ingestion ? unread('ingestion')
      : `the Mapping transformation spec declares mappingVersion ${ingestion.mappingVersionType ?? '(undeclared: string sent)'}`,
  });
  return out;
}
