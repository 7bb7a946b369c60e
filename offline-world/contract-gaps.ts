/**
 * THE list of documented gaps between Adobe's OpenAPI files (shared/contracts) and how AEP
 * actually behaves, as Adobe's own documentation describes it. The contract check
 * (stand-in/contract-check.ts) lets exactly these violations pass; any other one fails the test,
 * scenario or demo that caused it. An entry needs a reason and the Adobe document that says so:
 * "the handler does it this way" is not a reason.
 */

/** The spec files the contract check judges by. */
export type SpecName = 'flow-service.yaml' | 'destinations.yaml' | 'data-prep.yaml';

/** Which half of an exchange a gap concerns. */
export type GovernedDirection = 'request' | 'response';

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
    reason: 'destinations.yaml models the PATCH body as one PatchConnectionItem; Flow Service takes a JSON Patch array of them (RFC 6902), as patchFlowById\'s Patch_Flow_Request already says.',
    doc: 'API-NOTES §3.4 (RFC 6902 array, lower-case op; "send an array, lower-case (all tutorials do)")',
  },
  {
    id: 'prep-schemas-undocumented',
    spec: 'data-prep.yaml',
    operations: ['POST /schemas'],
    direction: 'request',
    rule: /^no operation of the spec matches$/,
    reason: 'Adobe\'s audience-export tutorial registers the profile mapping\'s input and output schemas with POST /conversion/schemas; data-prep.yaml has no such path.',
    doc: 'DATAFLOWS §4.6 steps 3-4 and the note "/conversion/schemas is not in [spec-prep]" (help/destinations/api/activate-segments-file-based-destinations.md)',
  },
];
