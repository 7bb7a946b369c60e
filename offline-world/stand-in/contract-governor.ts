/**
 * Which Adobe spec governs a Flow Service or Data Prep request: the one that documents the
 * object it creates or touches. Destination objects (the S3 destination connection spec, the
 * Profile and Data Lake source specs of exports, the audience and dataset export flow specs) are
 * documented in destinations.yaml; every other Flow Service object in flow-service.yaml; mapping
 * sets in data-prep.yaml.
 */
import { AepIds, DataflowIds } from '../../src/private/contract';
import type { SpecName } from '../contract-gaps';

/** Connection and flow spec ids whose objects destinations.yaml documents. */
const DESTINATION_SPECS: ReadonlySet<string> = new Set([
  AepIds.S3_DESTINATION_CONNECTION_SPEC,
  DataflowIds.PROFILE_STORE_SOURCE_SPEC,
  DataflowIds.DATA_LAKE_SOURCE_SPEC,
  DataflowIds.S3_AUDIENCE_FLOW_SPEC,
  DataflowIds.S3_DATASET_FLOW_SPEC,
]);

/** Looks up the spec id (connection spec or flow spec) of a stored object by collection and id. */
export type SpecIdOf = (collection: string, id: string) => string | undefined;

/**
 * The spec governing `path` (relative to the service root, e.g. `/connections/<id>`), or undefined
 * for a path outside Flow Service and Data Prep (IMS).
 */
export function governingSpec(service: 'flowservice' | 'conversion', path: string, body: unknown, query: URLSearchParams, specIdOf: SpecIdOf): SpecName {
  if (service === 'conversion') return 'data-prep.yaml';
  const [, collection, id] = path.split('/');
  const spec = (specId: unknown): SpecName => (typeof specId === 'string' && DESTINATION_SPECS.has(specId) ? 'destinations.yaml' : 'flow-service.yaml');
  if (collection === 'connectionSpecs') return spec(id);
  if (id) return spec(specIdOf(collection, id));
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    const b = body as { connectionSpec?: { id?: unknown }; flowSpec?: { id?: unknown } };
    return spec(b.connectionSpec?.id ?? b.flowSpec?.id);
  }
  // A list: governed by the spec its filter names (`connectionSpec.id==…`, `flowSpec.id==…`), or
  // by the spec of the objects it filters on (`sourceConnectionIds[]==<id>` lists the flows of a
  // destination's source connection: destination flows).
  const filters = query.getAll('property');
  if ([...DESTINATION_SPECS].some((d) => filters.join(' ').includes(d))) return 'destinations.yaml';
  const referenced = filters.flatMap((filter) => {
    const match = /^([A-Za-z]+)(?:\[\])?==(.+)$/.exec(filter);
    const of = match && (REFERENCES[match[1]] ?? (match[1] === 'id' ? collection : undefined));
    return of ? match[2].split(',').map((ref) => specIdOf(of, ref.replace(/"/g, ''))) : [];
  });
  return referenced.some((specId) => specId !== undefined && DESTINATION_SPECS.has(specId)) ? 'destinations.yaml' : 'flow-service.yaml';
}

/** Filter fields that hold ids of another collection. */
const REFERENCES: Record<string, string> = {
  sourceConnectionIds: 'sourceConnections',
  targetConnectionIds: 'targetConnections',
  baseConnectionId: 'connections',
};
