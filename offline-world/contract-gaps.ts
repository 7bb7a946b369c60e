/**
 * THE list of documented gaps between Adobe's OpenAPI files (shared/contracts) and how AEP
 * actually behaves, as Adobe's own documentation describes it. The contract check
 * (stand-in/contract-check.ts) lets exactly these violations pass; any other one fails the test,
 * scenario or demo that caused it. An entry needs a reason and the Adobe document that says so:
 * "the handler does it this way" is not a reason.
 */

import { fakeAccessKeyId } from './stand-in/fake-credentials';

/** The spec files the contract check judges by. */
export type SpecName = 'flow-service.yaml' | 'destinations.yaml' | 'data-prep.yaml';

/** Which half of an exchange a gap concerns. */
export type GovernedDirection = 'request' | 'response';

/** An exchange as sent to the stand-in (the test adds the standard gateway headers). */
export interface GapWitness {
  readonly method: string;
  /** Full path, service prefix included. */
  readonly path: string;
  readonly query?: Record<string, string | string[]>;
  readonly body?: unknown;
  /** For a response gap: the answer judged. */
  readonly response?: { readonly status: number; readonly body: unknown };
}

const FS = '/data/foundation/flowservice';
const PREP = '/data/foundation/conversion';
const ID = '0b6c1a55-5f1e-4c1c-9a51-2b8f0f3a7d11';
const DEST_SPEC = { id: '4fce964d-3f37-408f-9778-e597338a21ee', version: '1.0' };

/** One documented gap. */
export interface ContractGap {
  /** Short stable name, printed next to each violation it covers. */
  readonly id: string;
  readonly spec: SpecName;
  /** `operationId`s the gap applies to (`'*'`: every operation of the spec). */
  readonly operations: readonly string[] | '*';
  readonly direction: GovernedDirection;
  /** Matches the violation's rule: `<instancePath> <ajv keyword> <detail>`, array indexes as `*`. */
  readonly rule: RegExp;
  /**
   * `eachItem`: the spec describes one item where Adobe documents an array of them; the array
   * shape is the gap and each item is still judged by the item schema. `eachListItem`: a 2xx
   * response is `{items: [...]}` where the spec describes one item; each item is judged.
   */
  readonly adapt?: 'eachItem' | 'eachListItem';
  /**
   * Narrows the gap to exchanges it is about: called with what the violation was found in (the
   * request body or the patch op judged alone; the response body or the list item judged alone).
   */
  readonly when?: (judged: unknown) => boolean;
  /**
   * One exchange the gap is about (test/world/contract-gaps.test.ts judges it): if the gap no
   * longer matches its witness (Adobe fixed the spec, the rule drifted), the entry is stale.
   */
  readonly witness: GapWitness;
  /** Why the spec is wrong here. */
  readonly reason: string;
  /** The Adobe document (or the project's notes quoting it) that says so. */
  readonly doc: string;
}

export const CONTRACT_GAPS: readonly ContractGap[] = [
  {
    id: 'dst-get-list-wrapper',
    spec: 'destinations.yaml',
    operations: ['getConnections', 'getConnectionById', 'getTargetConnections', 'getTargetConnectionById',
      'getSourceConnections', 'getSourceConnectionById', 'getFlows', 'getFlowById'],
    direction: 'response',
    rule: /^\/ listWrapper$/,
    adapt: 'eachListItem',
    witness: { method: 'GET', path: `${FS}/connections/${ID}`, response: { status: 200, body: { items: [] } } },
    reason: 'destinations.yaml gives these GETs one item as the 200 body; Flow Service answers {items: [...]}, even by id.',
    doc: 'API-NOTES §3.1 (help/destinations/api/activate-segments-file-based-destinations.md, "Response" of each GET)',
  },
  {
    id: 'dst-patch-array',
    spec: 'destinations.yaml',
    operations: ['patchConnectionById'],
    direction: 'request',
    rule: /^\/requestBody type "object"$/,
    adapt: 'eachItem',
    witness: { method: 'PATCH', path: `${FS}/connections/${ID}`, body: [{ op: 'replace', path: '/name', value: 'acme-dest' }] },
    reason: 'destinations.yaml models the PATCH body as one PatchConnectionItem; Flow Service takes a JSON Patch array of them (RFC 6902), as patchFlowById\'s Patch_Flow_Request already says.',
    doc: 'API-NOTES §3.4 (RFC 6902 array, lower-case op; "send an array, lower-case (all tutorials do)")',
  },
  {
    id: 'prep-schemas-undocumented',
    spec: 'data-prep.yaml',
    operations: ['POST /schemas'],
    direction: 'request',
    rule: /^no operation of the spec matches$/,
    witness: { method: 'POST', path: `${PREP}/schemas`, body: { schema: { type: 'object' } } },
    reason: 'Adobe\'s audience-export tutorial registers the profile mapping\'s input and output schemas with POST /conversion/schemas; data-prep.yaml has no such path.',
    doc: 'DATAFLOWS §4.6 steps 3-4 and the note "/conversion/schemas is not in [spec-prep]" (help/destinations/api/activate-segments-file-based-destinations.md)',
  },
  {
    id: 'src-patch-array',
    spec: 'flow-service.yaml',
    operations: ['patchConnection'],
    direction: 'request',
    rule: /^\/requestBody type "object"$/,
    adapt: 'eachItem',
    witness: { method: 'PATCH', path: `${FS}/connections/${ID}`, body: [{ op: 'replace', path: '/auth/params/s3SessionToken', value: 'token' }] },
    reason: 'flow-service.yaml models PATCH /connections/{id}/ as one PatchInstruction; Flow Service takes a JSON Patch array (RFC 6902), as its own patchTargetConnection and patchFlow bodies and every tutorial do.',
    doc: 'API-NOTES §3.4 (table "PATCH /connections body": "send an array, lower-case (all tutorials do)"; help/sources/tutorials/api/update.md)',
  },
  {
    id: 'src-patch-lower-case-op',
    spec: 'flow-service.yaml',
    operations: ['patchConnection', 'patchTargetConnection', 'patchSourceConnection', 'patchFlow'],
    direction: 'request',
    rule: /^\/requestBody\/\*\/op enum \["ADD","REPLACE","REMOVE"\]$/,
    witness: { method: 'PATCH', path: `${FS}/targetConnections/${ID}`, body: [{ op: 'replace', path: '/params/path', value: 'aep/exports' }] },
    reason: 'flow-service.yaml enumerates op in upper case; its own prose, RFC 6902 and every Adobe tutorial use add/replace/remove, the case destinations.yaml enumerates.',
    doc: 'API-NOTES §3.4 (table: "op enum upper-case ADD/REPLACE/REMOVE (prose says lower-case)"); DATAFLOWS §3.6 (help/sources/tutorials/api/update-dataflows.md)',
  },
  {
    id: 'patch-value-any-json',
    spec: 'flow-service.yaml',
    operations: ['patchConnection', 'patchTargetConnection', 'patchSourceConnection', 'patchFlow'],
    direction: 'request',
    rule: /^\/requestBody\/\*\/value type "object"$/,
    witness: { method: 'PATCH', path: `${FS}/flows/${ID}`, body: [{ op: 'replace', path: '/name', value: 'ingest' }] },
    reason: 'A JSON Patch value is whatever JSON value belongs at its path (a string for /name or /auth/params/s3SessionToken); flow-service.yaml types it as an object.',
    doc: 'API-NOTES §3.4 (example: replace /auth/params/s3SessionToken with a string value); DATAFLOWS §3.6 (replace /name with a string, help/sources/tutorials/api/update-dataflows.md)',
  },
  {
    id: 'dst-patch-connection-value',
    spec: 'destinations.yaml',
    operations: ['patchConnectionById'],
    direction: 'request',
    rule: /^\/requestBody\/\*\/value (type "object"|oneOf \[.*\])$/,
    witness: { method: 'PATCH', path: `${FS}/connections/${ID}`, body: [{ op: 'replace', path: '/name', value: 'acme-dest' }] },
    reason: 'destinations.yaml makes PatchConnectionItem.value a oneOf of objects whose properties are all optional, so an object matches several branches and a string (a name, one auth param) none; a JSON Patch value is whatever belongs at its path, and the spec\'s own example keys (accessId/secretKey) are not the S3 auth spec\'s.',
    doc: 'API-NOTES §3.4 (table "PATCH /connections example value"; RFC 6902), §9.3',
  },
  {
    id: 'dst-assumed-role',
    spec: 'destinations.yaml',
    operations: ['postTargetBaseConnection'],
    direction: 'request',
    rule: /^\/requestBody\/auth\/(specName enum \["Access Key"\]|params required "s3(AccessKey|SecretKey)")$/,
    when: (body) => authSpecName(body) === 'Assumed Role',
    witness: {
      method: 'POST',
      path: `${FS}/connections`,
      body: { name: 'acme-dest', auth: { specName: 'Assumed Role', params: { s3Role: 'arn:aws:iam::111122223333:role/aep-export' } }, connectionSpec: DEST_SPEC },
    },
    reason: 'destinations.yaml knows only the "Access Key" auth spec of the S3 destination; its connection spec also has "Assumed Role" (params s3Role), which Adobe\'s S3 destination page documents.',
    doc: 'API-NOTES §5.2 (exact auth spec names), §3.4 table ("S3 destination auth: spec is stale"); help/destinations/catalog/cloud-storage/amazon-s3.md',
  },
  {
    id: 'dst-assumed-role-read',
    spec: 'destinations.yaml',
    operations: ['getConnections', 'getConnectionById'],
    direction: 'response',
    rule: /^\/items\/\*\/auth\/(specName enum \["Access Key"\]|params required "s3(AccessKey|SecretKey)")$/,
    when: (item) => authSpecName(item) === 'Assumed Role',
    witness: {
      method: 'GET',
      path: `${FS}/connections/${ID}`,
      response: { status: 200, body: { items: [{ auth: { specName: 'Assumed Role', params: { s3Role: '***' } }, connectionSpec: DEST_SPEC }] } },
    },
    reason: 'The same stale auth enum on reading: an "Assumed Role" connection (API-NOTES §5.2) has s3Role, not s3AccessKey/s3SecretKey.',
    doc: 'API-NOTES §5.2, §3.4 table; help/destinations/catalog/cloud-storage/amazon-s3.md',
  },
  {
    id: 'dst-masked-secret',
    spec: 'destinations.yaml',
    operations: ['getConnections', 'getConnectionById'],
    direction: 'response',
    rule: /^\/items\/\*\/auth\/params\/s3SecretKey pattern ".*"$/,
    witness: {
      method: 'GET',
      path: `${FS}/connections/${ID}`,
      response: { status: 200, body: { items: [{ auth: { specName: 'Access Key', params: { s3AccessKey: fakeAccessKeyId('AKIA', 'contract-gap-witness'), s3SecretKey: '***' } } }] } },
    },
    reason: 'destinations.yaml reuses the create request\'s auth schema for a read connection, so the secret must look like a 40-character key; Flow Service returns only "a partial view of the credentials" (flow-service.yaml), a masked value that by design is not the key (its exact form is undocumented).',
    doc: 'flow-service.yaml tag "Base connections" ("a partial view of the credentials"); API-NOTES §3.2, §9.11',
  },
  {
    id: 'dst-target-params-ambiguous',
    spec: 'destinations.yaml',
    operations: ['getTargetConnections', 'getTargetConnectionById'],
    direction: 'response',
    rule: /^\/items\/\*\/params oneOf \[0,1(,\d+)*\]$/,
    witness: {
      method: 'GET',
      path: `${FS}/targetConnections/${ID}`,
      response: { status: 200, body: { items: [{ params: { mode: 'Server-to-server', bucketName: 'acme-aep-exports', path: 'aep', fileType: 'CSV', compression: 'GZIP' } }] } },
    },
    reason: 'The first two branches of TargetConnectionItem.params constrain only a nested params.params object, so they accept every object and no target connection passes exactly one branch; Adobe\'s GET examples show the flat S3 params.',
    doc: 'API-NOTES §5.5 (target params); help/destinations/api/activate-segments-file-based-destinations.md (target connection response)',
  },
  {
    id: 'dst-datalake-source-typeinfo',
    spec: 'destinations.yaml',
    operations: ['getSourceConnections', 'getSourceConnectionById'],
    direction: 'response',
    rule: /^\/items\/\* required "typeInfo"$/,
    when: (item) => connectionSpecId(item) === '23598e46-f560-407b-88d5-ea6207e49db0',
    witness: {
      method: 'GET',
      path: `${FS}/sourceConnections/${ID}`,
      response: { status: 200, body: { items: [{ connectionSpec: { id: '23598e46-f560-407b-88d5-ea6207e49db0', version: '1.0' }, params: { datasets: [] } }] } },
    },
    reason: 'SourceConnectionItem requires typeInfo, enumerated for Profile Store exports only (ups/ProfileFragments); a Data Lake (dataset) export source has no such type and Adobe documents it by its datasets only.',
    doc: 'DATAFLOWS §4.2 (help/destinations/api/export-datasets.md, Data Lake source connection)',
  },
  {
    id: 'prep-dates-epoch-ms',
    spec: 'data-prep.yaml',
    operations: ['createMappingSet', 'retrieveMappingSet', 'listMappingSets'],
    direction: 'response',
    rule: /^\/(data\/\*\/)?(createdDate|modifiedDate) type "string"$/,
    witness: {
      method: 'POST',
      path: `${PREP}/mappingSets`,
      response: { status: 200, body: { id: 'e7c80e4c0d8f4a98a7d400b4e178b635', version: 0, createdDate: 1614901254724, modifiedDate: 1614901254724 } },
    },
    reason: 'data-prep.yaml types createdDate/modifiedDate as date-time strings; its own createMappingSet example and Adobe\'s Data Prep pages return epoch milliseconds (1614901254724).',
    doc: 'DATAFLOWS §3.4 ("Response (both docs)"; help/data-prep/api/mapping-set.md); data-prep.yaml createMappingSet 200 example',
  },
  {
    id: 'prep-stored-source-type',
    spec: 'data-prep.yaml',
    operations: ['retrieveMappingSet', 'listMappingSets'],
    direction: 'response',
    rule: /^\/(data\/\*\/)?mappings\/\*\/sourceType enum \["ATTRIBUTE","EXPRESSION","STATIC"\]$/,
    witness: {
      method: 'GET',
      path: `${PREP}/mappingSets/e7c80e4c0d8f4a98a7d400b4e178b635`,
      response: { status: 200, body: { id: 'e7c80e4c0d8f4a98a7d400b4e178b635', mappings: [{ sourceType: 'text/x.schema-path', source: 'id', destination: '_id' }] } },
    },
    reason: 'Stored mappings come back with sourceType "text/x.schema-path", outside the enum data-prep.yaml gives (ATTRIBUTE/EXPRESSION/STATIC are what a request sends).',
    doc: 'DATAFLOWS §3.4 ("Stored mappings come back with sourceType text/x.schema-path"; help/data-prep/api/mapping-set.md GET responses)',
  },
  {
    id: 'src-configs-iam-role',
    spec: 'flow-service.yaml',
    operations: ['configByConnectionSpecId'],
    direction: 'request',
    rule: /^\/query additionalProperties "authType"$/,
    witness: { method: 'GET', path: `${FS}/connectionSpecs/ecadc60c-7455-4d87-84dc-2a0e293d997b/configs`, query: { authType: 'IamBasedAuthentication' } },
    reason: 'flow-service.yaml lists no authType parameter for GET /connectionSpecs/{id}/configs; Adobe\'s S3 source tutorial learns AEP\'s IAM role with ?authType=IamBasedAuthentication.',
    doc: 'API-NOTES §4.2, §3.4 table ("configs endpoints"); help/sources/connectors/cloud-storage/s3.md',
  },
  {
    id: 'src-configs-object',
    spec: 'flow-service.yaml',
    operations: ['configByConnectionSpecId'],
    direction: 'response',
    rule: /^\/ type "array"$/,
    when: (body) => typeof body === 'object' && body !== null && 'configParams' in body,
    witness: {
      method: 'GET',
      path: `${FS}/connectionSpecs/ecadc60c-7455-4d87-84dc-2a0e293d997b/configs`,
      query: { authType: 'IamBasedAuthentication' },
      response: { status: 200, body: { configParams: { IAMRole: 'arn:aws:iam::123456789012:role/adobe-aep' } } },
    },
    reason: 'flow-service.yaml types the configs answer as an array (a generic explore example); the IamBasedAuthentication answer Adobe documents is one object {configParams: {IAMRole}}.',
    doc: 'API-NOTES §4.2 (help/sources/connectors/cloud-storage/s3.md)',
  },
  {
    id: 'src-explore-lower-case',
    spec: 'flow-service.yaml',
    operations: ['getByConnectionId'],
    direction: 'request',
    rule: /^\/query\/objectType enum \["ROOT","TABLE","FILE","FOLDER","REST"\]$/,
    witness: { method: 'GET', path: `${FS}/connections/${ID}/explore`, query: { objectType: 'root' } },
    reason: 'flow-service.yaml enumerates objectType in upper case; Adobe\'s explore tutorial documents and sends root/folder/file in lower case.',
    doc: 'DATAFLOWS §2.1 (help/sources/tutorials/api/explore/cloud-storage.md)',
  },
  {
    id: 'src-state-action-lower-case',
    spec: 'flow-service.yaml',
    operations: ['postStateTransition'],
    direction: 'request',
    rule: /^\/query(\/op enum \["ENABLE","DISABLE","FINALIZE_UPDATE","FINALIZE","PUBLISH"\]| required "subOp")$/,
    witness: { method: 'POST', path: `${FS}/flows/${ID}/action`, query: { op: 'enable' } },
    reason: 'flow-service.yaml enumerates op in upper case and marks subOp required; Adobe\'s dataflow tutorial enables and disables with a lower-case op=enable|disable and no subOp.',
    doc: 'DATAFLOWS §3.7 (help/destinations/api/update-destination-dataflows.md)',
  },
  {
    id: 'repeated-property-filter',
    spec: 'destinations.yaml',
    operations: ['getTargetConnections', 'getFlows'],
    direction: 'request',
    rule: /^\/query\/property type "string"$/,
    witness: { method: 'GET', path: `${FS}/targetConnections`, query: { property: [`connectionSpec.id==${DEST_SPEC.id}`, `baseConnectionId==${ID}`] } },
    reason: 'destinations.yaml types property as one string; Flow Service ANDs repeated property= parameters, as Adobe\'s sort-and-filter page documents.',
    doc: 'API-NOTES §3.5 ("repeat property= for AND"; help/dataflows/api/sort-and-filter.md)',
  },
  {
    id: 'dst-general-transform-name',
    spec: 'destinations.yaml',
    operations: ['postFlow'],
    direction: 'request',
    rule: /^\/requestBody\/transformations\/\*\/name enum \["General Transform"\]$/,
    witness: {
      method: 'POST',
      path: `${FS}/flows`,
      body: {
        name: 'audiences',
        flowSpec: { id: '1a0514a6-33d4-4c7f-aff8-594799c47549', version: '1.0' },
        sourceConnectionIds: [ID],
        targetConnectionIds: [ID],
        transformations: [{ name: 'GeneralTransform', params: { mandatoryFields: [], primaryFields: [], profileMapping: {}, segmentSelectors: { selectors: [] } } }],
      },
    },
    reason: 'The flow request schemas spell the transformation "General Transform"; the spec\'s own flow examples, its PatchFlowItem enum and Adobe\'s tutorial use "GeneralTransform".',
    doc: 'DATAFLOWS §4.4 (help/destinations/api/activate-segments-file-based-destinations.md; destinations.yaml example Create_Batch_Destination_Flow_Segment_V2)',
  },
  {
    id: 'dst-flow-batch-or-streaming',
    spec: 'destinations.yaml',
    operations: ['getFlowById', 'getFlows'],
    direction: 'response',
    rule: /^\/items\/\* oneOf \[0,1\]$/,
    witness: {
      method: 'GET',
      path: `${FS}/flows/${ID}`,
      response: { status: 200, body: { items: [{ id: ID, name: 'audiences', flowSpec: { id: '1a0514a6-33d4-4c7f-aff8-594799c47549', version: '1.0' }, state: 'enabled' }] } },
    },
    reason: 'A flow is oneOf Batch_Flow or Streaming_Flow, but neither excludes the other (no discriminator, no conflicting required field), so every flow, the spec\'s own Batch_Flow examples included, matches both and fails the oneOf.',
    doc: 'destinations.yaml getFlowById 200 examples (Batch_Flow_*); DATAFLOWS §4.4',
  },
  {
    id: 'dst-patch-flow-value',
    spec: 'destinations.yaml',
    operations: ['patchFlowById'],
    direction: 'request',
    rule: /^\/requestBody\/\*\/value (type "object"|oneOf \[.*\])$/,
    witness: { method: 'PATCH', path: `${FS}/flows/${ID}`, body: [{ op: 'replace', path: '/name', value: 'audiences' }] },
    reason: 'PatchFlowItem.value is a oneOf of objects whose properties are all optional (two of them the same segment selector), so a selector or profile mapping matches several branches and a string (/name) none; Adobe documents values of every shape at their paths.',
    doc: 'DATAFLOWS §4.5 (selectors), §3.6 (replace /name, /scheduleParams; help/destinations/api/update-destination-dataflows.md)',
  },
  {
    id: 'fs-unfiltered-list-destination-targets',
    spec: 'flow-service.yaml',
    operations: ['getTargetConnections'],
    direction: 'response',
    rule: /^\/items\/\*\/inheritedAttributes\/baseConnection type "object"$/,
    // Only the destination items (typed by destinations.yaml) of a list no filter narrowed.
    when: (body) => listItems(body).filter((i) => typeof (i.inheritedAttributes as { baseConnection?: unknown } | undefined)?.baseConnection === 'string')
      .every((i) => connectionSpecId(i) === DEST_SPEC.id),
    witness: {
      method: 'GET',
      path: `${FS}/targetConnections`,
      response: { status: 200, body: { items: [{ id: ID, name: 'exports', connectionSpec: DEST_SPEC, inheritedAttributes: { baseConnection: ID } }] } },
    },
    reason: 'An unfiltered GET /targetConnections (the doctor listing a sandbox) answers source and destination target connections alike; flow-service.yaml types inheritedAttributes.baseConnection as an object, destinations.yaml (TargetConnectionItem) as the base connection id string, which is what a destination target connection carries.',
    doc: 'destinations.yaml TargetConnectionItem.inheritedAttributes.baseConnection ("Inherited base connection ID", type string); API-NOTES §3.5 (listing)',
  },
  {
    id: 'fs-unfiltered-list-destination-flows',
    spec: 'flow-service.yaml',
    operations: ['listFlows'],
    direction: 'response',
    rule: /^\/items\/\*\/scheduleParams\/interval type "string"$/,
    when: (body) => listItems(body).filter((i) => typeof (i.scheduleParams as { interval?: unknown } | undefined)?.interval === 'number')
      .every((i) => DESTINATION_FLOW_SPECS.includes(String((i.flowSpec as { id?: unknown } | undefined)?.id))),
    witness: {
      method: 'GET',
      path: `${FS}/flows`,
      response: {
        status: 200,
        body: { items: [{ id: ID, name: 'datasets', flowSpec: { id: '269ba276-16fc-47db-92b0-c1049a3c131f', version: '1.0' }, state: 'enabled', scheduleParams: { interval: 6, timeUnit: 'hour', startTime: 1735689600 } }] },
      },
    },
    reason: 'An unfiltered GET /flows answers source and destination flows alike; flow-service.yaml types scheduleParams.interval as a string, destinations.yaml\'s "Dataset Schedule Params" as an integer, which is what a dataset export flow carries.',
    doc: 'destinations.yaml "Dataset Schedule Params" (interval integer); DATAFLOWS §4.4, §6.1',
  },
  {
    id: 'dst-datalake-source-ambiguous',
    spec: 'destinations.yaml',
    operations: ['postSourceConnection'],
    direction: 'request',
    rule: /^\/requestBody oneOf \[0,1\]$/,
    when: (body) => connectionSpecId(body) === '23598e46-f560-407b-88d5-ea6207e49db0',
    witness: {
      method: 'POST',
      path: `${FS}/sourceConnections`,
      // destinations.yaml's own example Create_Source_Connection_Data_Lake.
      body: {
        name: 'Connecting to Data Lake',
        description: 'Data Lake source connection to export datasets',
        connectionSpec: { id: '23598e46-f560-407b-88d5-ea6207e49db0', version: '1.0' },
        params: { datasets: [{ dataSetId: '616d53e0a6de2719486fb024', name: 'Company Dataset' }] },
      },
    },
    reason: 'The Profile Store branch of the source connection oneOf does not pin its connectionSpec.id (its description only says which to use), so a Data Lake source connection, the spec\'s own example included, matches both branches and fails the oneOf.',
    doc: 'destinations.yaml example Create_Source_Connection_Data_Lake; DATAFLOWS §4.2 (help/destinations/api/export-datasets.md)',
  },
];

function authSpecName(value: unknown): unknown {
  return (value as { auth?: { specName?: unknown } } | undefined)?.auth?.specName;
}

function connectionSpecId(value: unknown): unknown {
  return (value as { connectionSpec?: { id?: unknown } } | undefined)?.connectionSpec?.id;
}

/** The S3 audience and dataset export flow specs (DATAFLOWS §0.1). */
const DESTINATION_FLOW_SPECS = ['1a0514a6-33d4-4c7f-aff8-594799c47549', '269ba276-16fc-47db-92b0-c1049a3c131f'];

function listItems(body: unknown): Array<Record<string, unknown>> {
  const items = (body as { items?: unknown } | undefined)?.items;
  return Array.isArray(items) ? items.filter((i): i is Record<string, unknown> => !!i && typeof i === 'object') : [];
}
