/**
 * The dataflow request schemas of Adobe's specs, compiled once per spec folder: source connection,
 * flow, selector, schedule and Data Prep bodies from flow-service.yaml, destinations.yaml and
 * data-prep.yaml (DATAFLOWS.md §3, §4; stale-spec exceptions in §6 are applied by the callers).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ValidateFunction } from 'ajv';
import { loadSpec, newAjv, OpenApiDoc } from './aep-validation';

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
