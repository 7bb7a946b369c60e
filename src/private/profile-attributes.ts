/**
 * Profile attributes an audience export writes (DATAFLOWS §4.6), shared by the construct (synth
 * checks) and the handler (the Data Prep mapping it creates).
 *
 * An attribute is an XDM path of the profile union schema (`person.name.firstName`,
 * `_acme.loyalty.tier`) or an identity `identityMap.<namespace>` (`identityMap.Email`).
 */

/** XDM field path: dot-separated field names (tenant fields start with `_`; map keys such as audience ids may hold `-`). */
const XDM_PATH = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_][A-Za-z0-9_-]*)*$/;
/** An identity namespace code (`Email`, `Phone_E.164`, `ECID`). */
const NAMESPACE = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const IDENTITY_PREFIX = 'identityMap.';

/**
 * AEP's guardrail on mapped attributes per audience export dataflow (soft: more work, but Adobe
 * advises against it). Each attribute, the identity included, is one Data Prep mapping.
 */
export const MAX_MAPPED_ATTRIBUTES = 50;

/** One Data Prep mapping of a profile export. */
export interface ProfileAttributeMapping {
  /** Path in the union schema; a dot inside an identity namespace is protected with `//` (DATAFLOWS §4.6). */
  readonly source: string;
  /** Column name in the exported file: no dots allowed (DATAFLOWS §4.6). */
  readonly destination: string;
  readonly identity: boolean;
}

/** Whether the attribute names an identity namespace. */
export function isIdentityAttribute(path: string): boolean {
  return path.startsWith(IDENTITY_PREFIX);
}

/** Why `path` is not an attribute path, or undefined. */
export function attributePathProblem(path: string): string | undefined {
  if (isIdentityAttribute(path)) {
    const namespace = path.substring(IDENTITY_PREFIX.length);
    return NAMESPACE.test(namespace) ? undefined : 'must be identityMap.<namespace> with a namespace code of letters, digits, _ . -';
  }
  return XDM_PATH.test(path) ? undefined
    : 'must be an XDM path of field names joined by dots (e.g. person.name.firstName), or identityMap.<namespace> for an identity';
}

/**
 * The mapping of one attribute. The destination is the path with dots turned into underscores,
 * the form migrated flows store in `mandatoryFields` (`person_name_lastName`, DATAFLOWS §4.7);
 * Adobe's example shortens some (`firstName`), which could collide, so the full form is used.
 * An identity keeps its namespace as the column (`identityMap.Email` → `Email`), its dots
 * protected in the source and replaced in the destination (`identityMap.Phone_E//.164` →
 * `Phone_E_164`), as in Adobe's example.
 */
export function attributeMapping(path: string): ProfileAttributeMapping {
  if (isIdentityAttribute(path)) {
    const namespace = path.substring(IDENTITY_PREFIX.length);
    return { source: IDENTITY_PREFIX + namespace.split('.').join('//.'), destination: namespace.replace(/\./g, '_'), identity: true };
  }
  return { source: path, destination: path.replace(/\./g, '_'), identity: false };
}

/**
 * Problems of a whole attribute list, as `[index, rule]` pairs: shape, duplicates, two paths
 * with the same column, and more than one identity ("only one identity attribute can be exported
 * per dataflow", DATAFLOWS §4.6). `isToken` marks entries to skip (deploy-time values).
 */
export function attributeListProblems(paths: readonly string[], isToken: (p: string) => boolean = () => false): Array<[number, string]> {
  const problems: Array<[number, string]> = [];
  const columns = new Map<string, string>();
  let identity: string | undefined;
  paths.forEach((path, i) => {
    if (isToken(path)) return;
    const shape = attributePathProblem(path);
    if (shape) {
      problems.push([i, shape]);
      return;
    }
    const m = attributeMapping(path);
    const clash = columns.get(m.destination);
    if (clash === path) problems.push([i, 'is listed twice']);
    else if (clash !== undefined) problems.push([i, `is exported as column ${m.destination}, like ${clash} (AEP columns cannot hold dots)`]);
    columns.set(m.destination, path);
    if (m.identity) {
      if (identity !== undefined && identity !== path) problems.push([i, `is a second identity (${identity} is the first): AEP exports one identity attribute per dataflow`]);
      identity = identity ?? path;
    }
  });
  return problems;
}
