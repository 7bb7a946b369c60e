/**
 * Data Prep (`/data/foundation/conversion`): mapping sets for ingestion (DATAFLOWS §3.4) and for
 * profile exports with their Data Prep schemas (§4.6), the Profile union schema they read
 * (§4.6 step 1), and the references flows make to mapping sets. No DELETE or PATCH exists here.
 */
import { randomBytes } from 'node:crypto';
import type { FlowSchemas } from './aep-flow-schemas';
import type { FlowsExchange, FlowsHost } from './aep-flows';
import { isObject, Violation, violation } from './aep-rules';
import { StoredTargetConnection } from './aep-store';
import { runSchema } from './aep-validation';

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

/** Mapping sets and Data Prep schemas of one stand-in. */
export class AepDataPrep {
  readonly mappingSets = new Map<string, StoredMappingSet>();
  readonly conversionSchemas = new Map<string, StoredConversionSchema>();
  /** See `AepFlows.mappingSetNameFilter`. */
  nameFilter: 'exact' | 'ignored' = 'exact';

  constructor(private readonly host: FlowsHost, private readonly schemas: FlowSchemas | undefined) {}

  clear(): void {
    this.nameFilter = 'exact';
    this.mappingSets.clear();
    this.conversionSchemas.clear();
  }

  /** `GET …/entityTypes/_xdm.context.profile?property=fullSchema==true&…` (DATAFLOWS §4.6 step 1). */
  unionSchema(ex: FlowsExchange): void {
    if (ex.record.method !== 'GET') return this.host.reply(ex, 405, { errorMessage: `${ex.record.method} is not allowed on ${ex.url.pathname}` });
    if (!ex.url.searchParams.getAll('property').includes('fullSchema==true')) {
      return this.host.reject(ex, violation('property=fullSchema==true is required to read the full union schema'));
    }
    this.host.reply(ex, 200, structuredClone(UNION_SCHEMA));
  }

  /** Routes `/data/foundation/conversion/<collection>/…`: conversion schemas and mapping sets (DATAFLOWS §3.4, §4.6). */
  handle(ex: FlowsExchange, sandbox: string, [collection, id, ...rest]: string[], body: unknown): void {
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
      const name = this.nameFilter === 'exact' ? ex.url.searchParams.get('name') : null;
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


  /** `profileMapping`: `{}` as created, or [spec-dst] "(Beta) Profile Mapping" naming a profile export set of this sandbox. */
  profileMappingProblems(value: unknown, sandbox: string): string[] {
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

  mappingRefProblem(t: Record<string, unknown>, target: StoredTargetConnection, sandbox: string): Violation | undefined {
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

  /** What Data Prep stamps on a new mapping set: id, sandbox, the given name, version 0, dates. */
  private newSetStamp(
    sandbox: string, body: Record<string, unknown>,
  ): Pick<StoredMappingSet, 'id' | 'sandboxName' | 'name' | 'version' | 'createdDate' | 'modifiedDate'> {
    const now = this.host.timestamp();
    return {
      id: randomBytes(16).toString('hex'),
      sandboxName: sandbox,
      ...(typeof body.name === 'string' ? { name: body.name } : {}),
      version: 0,
      createdDate: now,
      modifiedDate: now,
    };
  }

  /** Stores a new set and answers as Data Prep does (200 with its id, version and audit fields). */
  private storeSet(ex: FlowsExchange, set: StoredMappingSet): void {
    this.mappingSets.set(set.id, set);
    const by = `${this.host.clientId}@AdobeID`;
    const { id, version, createdDate, modifiedDate } = set;
    this.host.reply(ex, 200, { id, version, createdDate, modifiedDate, createdBy: by, modifiedBy: by });
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
    const set: StoredMappingSet = {
      ...this.newSetStamp(sandbox, body),
      outputSchema: { schemaRef: { id: String(ref!.id), contentType: typeof ref!.contentType === 'string' ? ref!.contentType : undefined } },
      // Stored mappings come back with `sourceType: "text/x.schema-path"` (DATAFLOWS §3.4).
      mappings: mappings.map((m: Record<string, unknown>) => ({ ...m, sourceType: 'text/x.schema-path', sourceAttribute: m.source, destinationXdmPath: m.destination })),
    };
    this.storeSet(ex, set);
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
    const set: StoredMappingSet = {
      ...this.newSetStamp(sandbox, body),
      inputSchema: { id: String((body.inputSchema as Record<string, unknown>).id) },
      outputSchema: { id: String((body.outputSchema as Record<string, unknown>).id) },
      mappings: mappings.map((m: Record<string, unknown>) => ({ ...m, sourceType: 'text/x.schema-path' })),
    };
    this.storeSet(ex, set);
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
