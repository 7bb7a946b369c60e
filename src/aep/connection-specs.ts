import type { AepClient } from './aep-client';
import { ContainerCache } from './container-cache';
import { log } from '../plumbing/log';

/**
 * AEP as the source of truth for request shapes: the live connection spec
 * (`GET /connectionSpecs/{id}`, DATAFLOWS §1.1) decides the auth spec names, which params exist,
 * are required or secret, and how the encryption block is sent. Read once per container per
 * spec id. Validation covers exactly the JSON Schema keywords the S3 specs use (`type`,
 * `required`, `properties`, `enum`, `pattern`, `readOnly`); ajv would cost ~125 KB of bundle.
 */

/** One param of an auth or encryption spec as AEP declares it. */
export interface DeclaredParam {
  readonly type?: string;
  readonly pattern?: string;
  readonly enum?: readonly unknown[];
  /** `format: password`: AEP treats it as secret. */
  readonly secret: boolean;
  /** `readOnly: true`: kept once set, a PATCH may not change it. */
  readonly readOnly: boolean;
}

/** An auth spec (or the encryption spec) as declared by AEP. */
export interface DeclaredSpec {
  readonly name: string;
  readonly type?: string;
  readonly params: Readonly<Record<string, DeclaredParam>>;
  readonly required: readonly string[];
}

/** What the live connection spec says, reduced to what the handler builds requests from. */
export interface LiveConnectionSpec {
  readonly id: string;
  readonly name?: string;
  readonly authSpecs: readonly DeclaredSpec[];
  readonly encryption?: DeclaredSpec;
}

/** The desired request does not fit the live spec; thrown before anything is POSTed. */
export class LiveSpecMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LiveSpecMismatchError';
  }
}

const cache = new ContainerCache<LiveConnectionSpec>();

/** Drops the per-container cache (tests switch the stand-in's variant between cases). */
export function forgetConnectionSpecs(): void {
  cache.clear();
}

/**
 * The live connection spec, read once per container per AEP environment (endpoint, org, sandbox)
 * and spec id: two environments in one stack may serve different revisions of the same spec.
 */
export function readConnectionSpec(client: AepClient, specId: string): Promise<LiveConnectionSpec> {
  return cache.get(`${client.environment} ${specId}`, () => client.request('GET', `/connectionSpecs/${encodeURIComponent(specId)}`).then((res) => {
    const parsed = parseConnectionSpec(res.data, specId);
    log('info', 'read the live connection spec', {
      specId,
      authSpecs: parsed.authSpecs.map((a) => ({ name: a.name, params: Object.keys(a.params), required: a.required })),
      encryption: parsed.encryption && { name: parsed.encryption.name, encryptionAlgo: parsed.encryption.params.encryptionAlgo?.enum },
    });
    return parsed;
  }));
}

/** Parses `{ items: [spec] }` (DATAFLOWS §1.1); throws when AEP's answer has no usable auth specs. */
export function parseConnectionSpec(data: unknown, specId: string): LiveConnectionSpec {
  const item = (data as { items?: unknown[] } | undefined)?.items?.[0] as Record<string, unknown> | undefined;
  if (!item || !Array.isArray(item.authSpec)) {
    throw new Error(`AEP's connection spec ${specId} has no authSpec list: cannot build the connection request from it`);
  }
  const encryption = Array.isArray(item.encryptionSpecs) ? item.encryptionSpecs[0] : undefined;
  return {
    id: specId,
    name: typeof item.name === 'string' ? item.name : undefined,
    authSpecs: item.authSpec.map(declaredSpec),
    encryption: encryption ? declaredSpec(encryption) : undefined,
  };
}

function declaredSpec(raw: unknown): DeclaredSpec {
  const r = raw as { name?: unknown; type?: unknown; spec?: { properties?: Record<string, Record<string, unknown>>; required?: unknown } };
  const properties = r.spec?.properties ?? {};
  return {
    name: String(r.name),
    type: typeof r.type === 'string' ? r.type : undefined,
    required: Array.isArray(r.spec?.required) ? r.spec!.required.map(String) : [],
    params: Object.fromEntries(Object.entries(properties).map(([name, p]) => [name, {
      type: typeof p.type === 'string' ? p.type : undefined,
      pattern: typeof p.pattern === 'string' ? p.pattern : undefined,
      enum: Array.isArray(p.enum) ? p.enum : undefined,
      secret: p.format === 'password',
      readOnly: p.readOnly === true,
    }])),
  };
}

/** The declared auth spec named `authSpecName`, or a failure saying what AEP offers instead. */
export function authSpecOf(spec: LiveConnectionSpec, authSpecName: string): DeclaredSpec {
  const found = spec.authSpecs.find((a) => a.name === authSpecName);
  if (!found) {
    throw new LiveSpecMismatchError(
      `AEP's live connection spec ${spec.id} offers no auth spec '${authSpecName}' (it offers: ${spec.authSpecs.map((a) => `'${a.name}'`).join(', ')}); ` +
      'choose an authentication mode this AEP offers on the construct.',
    );
  }
  return found;
}

/**
 * Checks auth params against the live auth spec; values are never quoted (several are secrets).
 * `hint` maps a param to the construct setting that produces it, for the "what to change" part.
 */
export function checkAuthParams(
  spec: LiveConnectionSpec, authSpecName: string, params: Record<string, string>, hint: (param: string) => string,
): void {
  const declared = authSpecOf(spec, authSpecName);
  const problems = problemsOf(declared, params);
  if (problems.length) {
    throw new LiveSpecMismatchError(
      `The ${spec.id} '${authSpecName}' connection does not fit AEP's live auth spec, so nothing was created: ` +
      problems.map((p) => `${p.message}; ${hint(p.param)}`).join('. '),
    );
  }
}

/** Param-level problems of `values` against a declared spec (the JSON Schema subset the specs use). */
export function problemsOf(declared: DeclaredSpec, values: Record<string, unknown>): Array<{ param: string; message: string }> {
  const problems: Array<{ param: string; message: string }> = [];
  const names = Object.keys(declared.params);
  for (const param of Object.keys(values)) {
    if (!declared.params[param]) {
      problems.push({ param, message: `param '${param}' is not declared by '${declared.name}' (AEP declares: ${names.join(', ') || 'none'})` });
    }
  }
  for (const param of declared.required) {
    if (values[param] === undefined) problems.push({ param, message: `param '${param}' is required by '${declared.name}' but not set` });
  }
  for (const [param, rule] of Object.entries(declared.params)) {
    const value = values[param];
    if (value === undefined) continue;
    if (rule.type && !(rule.type === 'string' ? typeof value === 'string' : rule.type === 'boolean' ? typeof value === 'boolean' : true)) {
      problems.push({ param, message: `param '${param}' must be a ${rule.type}` });
    } else if (rule.enum && !rule.enum.includes(value)) {
      problems.push({ param, message: `param '${param}' must be one of ${JSON.stringify(rule.enum)} as AEP declares` });
    } else if (rule.pattern && typeof value === 'string' && !new RegExp(rule.pattern, 'u').test(value)) {
      problems.push({ param, message: `param '${param}' does not match the pattern AEP declares (${rule.pattern})` });
    }
  }
  return problems;
}

/** The encryption block in the shape the live spec declares, under the request key it pairs with. */
export interface EncryptionBlock {
  /** `encryption` (current docs, enum `PGP/GPG`) or `encryptionSpecs` (older revision, enum `PGPGPG`), API-NOTES §5.4. */
  readonly key: 'encryption' | 'encryptionSpecs';
  readonly value: { readonly specName: string; readonly params: Record<string, unknown> };
}

/**
 * Builds the PGP encryption block from the live spec: spec name as declared, `encryptionAlgo` =
 * the declared enum value that means PGP (`PGP/GPG` or `PGPGPG`), and the request key that value
 * is documented with. Fails when AEP declares no encryption or no PGP algorithm.
 */
export function encryptionBlock(spec: LiveConnectionSpec, publicKey: string): EncryptionBlock {
  const declared = spec.encryption;
  if (!declared) {
    throw new LiveSpecMismatchError(
      `AEP's live connection spec ${spec.id} declares no encryption spec, so file encryption cannot be requested; remove the encryption setting from the construct.`,
    );
  }
  const algos = declared.params.encryptionAlgo?.enum ?? [];
  const pgp = algos.find((a): a is string => typeof a === 'string' && /^PGP\/?GPG$/.test(a));
  if (!pgp) {
    throw new LiveSpecMismatchError(
      `AEP's live encryption spec '${declared.name}' declares encryptionAlgo ${JSON.stringify(algos)}, none of which is PGP; remove the encryption setting from the construct.`,
    );
  }
  const params = { encryptionAlgo: pgp, publicKey };
  const problems = problemsOf(declared, params);
  if (problems.length) {
    throw new LiveSpecMismatchError(`The encryption block does not fit AEP's live encryption spec: ${problems.map((p) => p.message).join('; ')}`);
  }
  return { key: pgp === 'PGP/GPG' ? 'encryption' : 'encryptionSpecs', value: { specName: declared.name, params } };
}

/** Params of `authSpecName` AEP lets a PATCH replace (declared and not `readOnly`), in `wanted` order. */
export function replaceableParams(spec: LiveConnectionSpec, authSpecName: string, wanted: readonly string[]): string[] {
  const declared = authSpecOf(spec, authSpecName);
  return wanted.filter((p) => declared.params[p] && !declared.params[p].readOnly);
}

/** Names of params the live spec marks secret (`format: password`), across all its specs. */
export function secretParams(spec: LiveConnectionSpec): string[] {
  return [...spec.authSpecs, ...(spec.encryption ? [spec.encryption] : [])]
    .flatMap((s) => Object.entries(s.params).filter(([, p]) => p.secret).map(([n]) => n));
}
