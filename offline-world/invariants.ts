/**
 * World invariants: what must hold after every lifecycle scenario, whatever faults were injected.
 * AEP holds exactly the connections the stacks own (plus what a RETAIN policy keeps), every AWS
 * key AEP holds still works, and no piece of any secret appears in any text the world produced.
 */

/** One place where a piece of a secret occurs in a text. Never carries the secret itself. */
export interface SecretLeak {
  /** Name of the text (its key, or `#<index>` for an array of texts). */
  readonly text: string;
  /** Offset of the leaked piece in that text. */
  readonly offset: number;
  /** Length of the leaked piece as it appears in the text (encoded forms are longer). */
  readonly length: number;
  /** Index of the secret in the `secrets` list. */
  readonly secretIndex: number;
  /** How the piece was written: as is, JSON-escaped, or URL/form-encoded. */
  readonly forms: readonly SecretForm[];
  /** A description safe to print: which secret, how long, where; no character of the secret (nor the text name). */
  readonly hint: string;
}

/** Encodings under which a secret is searched. */
export type SecretForm = 'raw' | 'json' | 'url';

/** Texts to scan: named (`{ template: '…', log: '…' }`) or a plain list. */
export type Texts = Readonly<Record<string, string>> | readonly string[];

/**
 * Every place where a piece of `minLength` or more characters of any secret occurs in any text,
 * as is, JSON-escaped (`\/`, `\u…`, `\"`) or URL-encoded (`%2F`, form `+`, either hex case).
 *
 * Checking every `minLength`-character window of each secret suffices: any longer leaked piece
 * contains such a window, and overlapping hits are merged into one leak per (text, secret) span,
 * so a secret cut at any point (e.g. a message truncated at 500 characters) is still found as
 * long as `minLength` of its characters survive. With a {@link SecretSet}, its own `minLength`
 * applies (the argument is not used).
 */
export function findSecretLeaks(texts: Texts, secrets: readonly string[] | SecretSet, minLength = 8): SecretLeak[] {
  const set = secrets instanceof SecretSet ? secrets : undefined;
  const secretList = set ? set.secrets : secrets as readonly string[];
  const prefixLength = set ? set.minLength : minLength;
  const byPrefix = set ? set.byPrefix : indexByPrefix(new Map(), secretPatterns(secretList, minLength), minLength);
  const leaks: SecretLeak[] = [];
  if (byPrefix.size === 0) return leaks;
  for (const [name, text] of namedTexts(texts)) {
    // Hits per secret: [start, end) spans in this text, with the forms that matched.
    const hits = new Map<number, Array<{ start: number; end: number; form: SecretForm }>>();
    // Every pattern (a window in any form) is at least `prefixLength` long, as no encoding shortens
    // text: one pass per text looks its `prefixLength`-character prefix up, then compares the rest.
    for (let i = 0; i + prefixLength <= text.length; i++) {
      for (const { pattern, owners } of byPrefix.get(text.substring(i, i + prefixLength)) ?? []) {
        if (pattern.length > prefixLength && !text.startsWith(pattern, i)) continue;
        for (const owner of owners) {
          const list = hits.get(owner.secretIndex) ?? [];
          list.push({ start: i, end: i + pattern.length, form: owner.form });
          hits.set(owner.secretIndex, list);
        }
      }
    }
    for (const [secretIndex, spans] of [...hits].sort(([a], [b]) => a - b)) {
      spans.sort((a, b) => a.start - b.start);
      let current: { start: number; end: number; forms: Set<SecretForm> } | undefined;
      const flush = () => {
        if (current) {
          const secretLength = secretList[secretIndex].length;
          leaks.push({
            text: name,
            offset: current.start,
            length: current.end - current.start,
            secretIndex,
            forms: [...current.forms].sort(),
            hint: `secret #${secretIndex} (${secretLength} chars): a ${current.end - current.start}-char piece (${[...current.forms].sort().join('/')}) at offset ${current.start}`,
          });
        }
      };
      for (const span of spans) {
        if (current && span.start <= current.end) {
          current.end = Math.max(current.end, span.end);
          current.forms.add(span.form);
        } else {
          flush();
          current = { start: span.start, end: span.end, forms: new Set([span.form]) };
        }
      }
      flush();
    }
  }
  return leaks;
}

/**
 * `text` with every leaked piece of every secret replaced by `<secret #i>`, so a message that
 * quotes a leaking text can itself be printed.
 */
export function redactSecrets(text: string, secrets: readonly string[], minLength = 8): string {
  const leaks = findSecretLeaks([text], secrets, minLength).sort((a, b) => a.offset - b.offset);
  // Pieces of different secrets may overlap: replace the union of all spans.
  const merged: Array<{ start: number; end: number; indexes: Set<number> }> = [];
  for (const leak of leaks) {
    const last = merged[merged.length - 1];
    if (last && leak.offset <= last.end) {
      last.end = Math.max(last.end, leak.offset + leak.length);
      last.indexes.add(leak.secretIndex);
    } else {
      merged.push({ start: leak.offset, end: leak.offset + leak.length, indexes: new Set([leak.secretIndex]) });
    }
  }
  let out = '';
  let cursor = 0;
  for (const span of merged) {
    out += `${text.substring(cursor, span.start)}<secret #${[...span.indexes].sort((a, b) => a - b).join(',#')}>`;
    cursor = span.end;
  }
  return out + text.substring(cursor);
}

/** The AEP stand-in as the invariants see it (structural: `AepStandIn` fits). */
export interface AepWorld {
  /** Scheduled work not applied yet (delayed applications, invisible creates). */
  readonly pendingApplications?: number;
  connections(): ReadonlyArray<{ id: string; name: string; connectionSpec: { id: string }; auth?: { params?: Record<string, unknown> } }>;
  targetConnections(): ReadonlyArray<{ id: string; name: string; connectionSpec: { id: string }; [extra: string]: unknown }>;
  /** Source connections (dataflows), when the world models them. */
  sourceConnections?(): ReadonlyArray<{ id: string; name: string; connectionSpec: { id: string }; [extra: string]: unknown }>;
  /** Dataflows, when the world models them. */
  flows?(): ReadonlyArray<{ id: string; name: string; flowSpec: { id: string }; [extra: string]: unknown }>;
}

/** The AWS side as the invariants need it (structural: `AwsStandIn` fits once it has `accessKeyWorks`). */
export interface AwsKeyOracle {
  /** Whether a request signed with this access key id would be accepted now. */
  accessKeyWorks(accessKeyId: string): boolean;
}

/** Recordings of the AEP stand-in (structural: `AepStandIn` fits). */
export interface AepRecordings {
  readonly requests: ReadonlyArray<unknown>;
  readonly validationFailures: readonly string[];
}

/** What {@link checkWorldInvariants} checks. */
export interface WorldInvariantInput {
  readonly aep: AepWorld;
  readonly aws: AwsKeyOracle;
  /** Ids of the connections and target connections the deployed stacks own now. */
  readonly owned: Iterable<string>;
  /** Ids expected to stay in AEP although no stack owns them (RETAIN removal policy). */
  readonly retained?: Iterable<string>;
  /** Everything the world produced that a person could read: templates, logs, responses, errors, recordings. */
  readonly texts: Texts;
  /** Every secret value in play (IMS client secret, secret keys, session tokens, role ARNs…). */
  readonly secrets: readonly string[];
  /** Access key ids deleted in AWS during the scenario: no AEP object may still hold one. */
  readonly deletedAccessKeys?: Iterable<string>;
}

/** AEP auth params that carry an AWS access key id (API-NOTES §4.1, §5.2). */
const ACCESS_KEY_PARAMS = ['s3AccessKey'];

/** The shape of an AWS access key id: long-term (AKIA) or temporary (ASIA). */
const ACCESS_KEY_ID = /(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z2-7]{16}(?![A-Z0-9])/g;

/**
 * Every violated invariant as a human-readable line (empty = the world is consistent). Lines
 * never contain a secret: connection names and similar are passed through {@link redactSecrets}.
 */
export function checkWorldInvariants(input: WorldInvariantInput): string[] {
  const { aep, aws, secrets } = input;
  const violations: string[] = [];
  if (aep.pendingApplications) {
    violations.push(`AEP still has ${aep.pendingApplications} delayed application(s) pending: await aep.settle() before checking`);
  }

  const owned = new Set(input.owned);
  const retained = new Set(input.retained ?? []);
  const objects = [
    ...aep.connections().map((item) => ({ kind: 'connection', item })),
    ...aep.targetConnections().map((item) => ({ kind: 'target connection', item })),
    ...(aep.sourceConnections?.() ?? []).map((item) => ({ kind: 'source connection', item })),
    ...(aep.flows?.() ?? []).map((item) => ({ kind: 'dataflow', item: { ...item, connectionSpec: { id: `flow spec ${item.flowSpec.id}` } } })),
  ];
  const present = new Set(objects.map((o) => o.item.id));
  for (const { kind, item } of objects) {
    if (!owned.has(item.id) && !retained.has(item.id)) {
      violations.push(`AEP holds ${kind} ${item.id} (name "${item.name}", spec ${item.connectionSpec.id}) that no stack owns and none retains: orphan`);
    }
  }
  for (const id of owned) {
    if (!present.has(id)) {
      violations.push(`owned id ${id} is not in AEP: the stack points at a connection that does not exist`);
    }
  }
  for (const id of retained) {
    if (!present.has(id)) {
      violations.push(`retained id ${id} is not in AEP: a RETAIN removal policy must leave it in place`);
    }
  }

  for (const connection of aep.connections()) {
    for (const param of ACCESS_KEY_PARAMS) {
      const keyId = connection.auth?.params?.[param];
      if (typeof keyId === 'string' && !aws.accessKeyWorks(keyId)) {
        violations.push(`AEP connection ${connection.id} (name "${connection.name}") holds ${param} ${keyId}, which no longer works in AWS`);
      }
    }
  }

  const deleted = new Set(input.deletedAccessKeys ?? []);
  for (const { kind, item } of objects) {
    const json = JSON.stringify(item);
    const seen = new Set<string>();
    for (const match of json.matchAll(ACCESS_KEY_ID)) {
      seen.add(match[0]);
    }
    for (const keyId of deleted) {
      if (json.includes(keyId)) {
        seen.add(keyId);
      }
    }
    for (const keyId of seen) {
      if (deleted.has(keyId)) {
        violations.push(`AEP ${kind} ${item.id} (name "${item.name}") still holds access key ${keyId}, deleted in AWS`);
      } else if (!aws.accessKeyWorks(keyId) && !isCheckedParam(item, keyId)) {
        // Keys in the checked params were reported above; this catches one held anywhere else.
        violations.push(`AEP ${kind} ${item.id} (name "${item.name}") holds access key ${keyId} outside its auth params, and it does not work in AWS`);
      }
    }
  }

  for (const leak of findSecretLeaks(input.texts, secrets)) {
    violations.push(`secret leak in "${leak.text}": ${leak.hint}`);
  }
  return violations.map((line) => redactSecrets(line, secrets));
}

/** Throws one error listing every violation of {@link checkWorldInvariants}; returns quietly when there is none. */
export function assertWorldInvariants(input: WorldInvariantInput): void {
  const violations = checkWorldInvariants(input);
  if (violations.length > 0) {
    throw new Error(`${violations.length} world invariant violation(s):\n${violations.map((v) => `  - ${v}`).join('\n')}`);
  }
}

/**
 * The AEP stand-in's recordings as texts for {@link findSecretLeaks}: one text per recorded
 * request (method, path, query, headers, body, response, applied outcome) named
 * `aep request #<i> <METHOD> <path>`, plus the validation failures and any extra log lines.
 * Recordings are redacted by key, so a secret found here was sent or echoed under a key that
 * is not known to be secret (a name, a description, a query parameter, an error message).
 */
export function aepRecordingTexts(aep: AepRecordings, logLines: readonly string[] = []): Record<string, string> {
  const texts: Record<string, string> = {};
  aep.requests.forEach((request, index) => {
    const r = request as { method?: string; path?: string; fault?: string; response?: unknown };
    // The body of an injected fault is the test's own words (it may quote a secret on purpose to
    // prove the handler redacts it); what the handler sent and what AEP really answered is kept.
    const recorded = r.fault !== undefined ? { ...r, response: undefined } : r;
    texts[`aep request #${index} ${r.method ?? '?'} ${r.path ?? '?'}`] = JSON.stringify(recorded);
  });
  texts['aep validation failures'] = aep.validationFailures.join('\n');
  if (logLines.length > 0) {
    texts['aep log'] = logLines.join('\n');
  }
  return texts;
}

function isCheckedParam(item: { auth?: { params?: Record<string, unknown> } } | Record<string, unknown>, keyId: string): boolean {
  const params = (item as { auth?: { params?: Record<string, unknown> } }).auth?.params;
  return ACCESS_KEY_PARAMS.some((p) => params?.[p] === keyId);
}

function namedTexts(texts: Texts): Array<[string, string]> {
  return Array.isArray(texts) ? texts.map((text, i) => [`#${i}`, text]) : Object.entries(texts as Record<string, string>);
}

type Owners = Array<{ secretIndex: number; form: SecretForm }>;
/** Pattern length → pattern → owners. */
type Patterns = Map<number, Map<string, Owners>>;
/** A pattern's first `minLength` characters → the patterns starting with them, and their owners. */
type PrefixIndex = Map<string, Array<{ pattern: string; owners: Owners }>>;

/** Adds `patterns` to `index` under their first `minLength` characters; returns `index`. */
function indexByPrefix(index: PrefixIndex, patterns: Patterns, minLength: number): PrefixIndex {
  for (const byText of patterns.values()) {
    for (const [pattern, owners] of byText) {
      const prefix = pattern.substring(0, minLength);
      const list = index.get(prefix) ?? [];
      list.push({ pattern, owners });
      index.set(prefix, list);
    }
  }
  return index;
}

/**
 * Secrets prepared once for {@link findSecretLeaks}, for a caller that scans again and again while
 * the list only grows (the handler harness, after every test): each secret's windows and their
 * encoded forms are computed when it is added, not on every scan. Same leaks as the plain list.
 */
export class SecretSet {
  /** The secrets in the order added; a leak's `secretIndex` points here. */
  readonly secrets: string[] = [];
  /** Every window of every secret in every form, by its first `minLength` characters. */
  readonly byPrefix: PrefixIndex = new Map();
  private readonly known = new Set<string>();

  constructor(readonly minLength = 8) {}

  /** Adds `secret` unless it is already in the set. */
  add(secret: string): void {
    if (this.known.has(secret)) return;
    this.known.add(secret);
    // A pattern two secrets share is indexed once per secret, each entry with its own owner: the
    // hits per secret are the same as with one shared entry.
    const own: Patterns = new Map();
    addSecretPatterns(own, secret, this.secrets.length, this.minLength);
    indexByPrefix(this.byPrefix, own, this.minLength);
    this.secrets.push(secret);
  }
}

function secretPatterns(secrets: readonly string[], minLength: number): Patterns {
  const patterns: Patterns = new Map();
  secrets.forEach((secret, secretIndex) => addSecretPatterns(patterns, secret, secretIndex, minLength));
  return patterns;
}

function addSecretPatterns(patterns: Patterns, secret: string, secretIndex: number, minLength: number): void {
  const add = (pattern: string, form: SecretForm) => {
    const byText = patterns.get(pattern.length) ?? new Map<string, Array<{ secretIndex: number; form: SecretForm }>>();
    const owners = byText.get(pattern) ?? [];
    if (!owners.some((o) => o.secretIndex === secretIndex && o.form === form)) {
      owners.push({ secretIndex, form });
    }
    byText.set(pattern, owners);
    patterns.set(pattern.length, byText);
  };
  // Shorter secrets are skipped: any 3- to 7-character string (a sandbox name, "true", a
  // four-digit number) occurs by chance in templates and logs, so a hit would not mean a leak,
  // and the project's rule is about pieces of 8+ characters anyway.
  if (secret.length < minLength) {
    return;
  }
  for (let i = 0; i + minLength <= secret.length; i++) {
    const window = secret.substring(i, i + minLength);
    add(window, 'raw');
    for (const encoded of jsonForms(window)) {
      if (encoded !== window) {
        add(encoded, 'json');
      }
    }
    for (const encoded of urlForms(window)) {
      if (encoded !== window) {
        add(encoded, 'url');
      }
    }
  }
}

/**
 * JSON string escaping: the minimal form `JSON.stringify` writes, with `/` as `\/` (as some
 * encoders write it), and with every non-ASCII character as `\uXXXX`.
 */
function jsonForms(text: string): string[] {
  const minimal = JSON.stringify(text).slice(1, -1);
  const ascii = minimal.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return [...new Set([minimal, minimal.replace(/\//g, '\\/'), ascii, ascii.replace(/\//g, '\\/')])];
}

/** `encodeURIComponent`, `application/x-www-form-urlencoded`, each with upper- and lower-case hex. */
function urlForms(text: string): string[] {
  const forms = [encodeURIComponent(text), new URLSearchParams({ x: text }).toString().substring(2)];
  return [...new Set([...forms, ...forms.map((f) => f.replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase()))])];
}
