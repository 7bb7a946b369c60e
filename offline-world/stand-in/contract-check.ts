/**
 * An independent judge of every request the AEP stand-in receives and every response it sends:
 * openapi-backend (router + ajv, not the stand-in's own aep-validation.ts) matches each exchange
 * to an operation of the Adobe spec that governs the object and validates path, query, headers
 * and body. It only records: what the stand-in answers is decided elsewhere, so a violation never
 * changes a test's course, only its verdict (harness, scenario world and demo fail on any
 * violation that contract-gaps.ts does not document).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import OpenAPIBackend, { type Operation } from 'openapi-backend';
import { cacheCompiledValidators, readSpecFile, validatorCacheDir } from './validator-cache';
import { CONTRACT_GAPS, type ContractGap, type GovernedDirection, type SpecName } from '../contract-gaps';
import { FETCH_SPECS_COMMAND } from '../specs';

/** Where each spec's paths live under the gateway host (the `servers` entry of each file). */
const BASE_PATHS: Record<SpecName, string> = {
  'flow-service.yaml': '/data/foundation/flowservice',
  'destinations.yaml': '/data/foundation/flowservice',
  'data-prep.yaml': '/data/foundation/conversion',
};

/** Options of {@link ContractCheck.load}. */
export interface ContractCheckOptions {
  /** Throw when a spec is missing (`CI=true`) instead of warning and judging nothing. */
  readonly required: boolean;
  readonly warn: (message: string) => void;
  /** The documented gaps (default: contract-gaps.ts); tests pass their own. */
  readonly gaps?: readonly ContractGap[];
}

/** One request or response as the checker sees it (values never leave this module). */
export interface CheckedExchange {
  readonly method: string;
  /** URL path including the service prefix (`/data/foundation/flowservice/connections`). */
  readonly path: string;
  readonly query: Record<string, string | string[]>;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body?: unknown;
}

/** One distinct violation: an operation of a spec broke one rule at one place. */
export interface ContractViolation {
  readonly spec: SpecName;
  /** `operationId` of the matched operation, or `METHOD path` when none matched. */
  readonly operation: string;
  readonly direction: GovernedDirection;
  /** Status of the response checked (responses only). */
  readonly status?: number;
  /** Where and which rule, never a value: `/requestBody/0/value required`. */
  readonly rule: string;
  /** The gap entry that documents it, if any. */
  readonly gap?: string;
  /** How many exchanges broke it. */
  count: number;
}

interface LoadedSpecs {
  readonly apis: ReadonlyMap<SpecName, OpenAPIBackend>;
}

// Loading the specs (YAML parse, dereference, compiling every operation) costs a few seconds; once
// per process and folder. `quick` only skips openapi-backend's own check of the definition.
const loaded = new Map<string, Promise<LoadedSpecs>>();
const warnedDirs = new Set<string>();

/** Records contract violations of one stand-in; see {@link ContractCheck.load}. */
export class ContractCheck {
  /**
   * Loads the three specs from `specDir`. A missing one throws when `required` (under `CI=true`:
   * a CI run must never pass by judging nothing), else warns and returns undefined.
   */
  public static async load(specDir: string, options: ContractCheckOptions): Promise<ContractCheck | undefined> {
    const dir = path.resolve(specDir);
    const names = Object.keys(BASE_PATHS) as SpecName[];
    const missing = names.filter((name) => !fs.existsSync(path.join(dir, name)));
    if (missing.length) {
      const message = `AEP stand-in: ${missing.join(', ')} not found in ${dir}; the contract check (Adobe's specs judging every `
        + `request and response) is OFF. Set AEP_CONTRACTS_DIR to a folder holding them, or run \`${FETCH_SPECS_COMMAND}\`.`;
      if (options.required) throw new Error(message);
      if (!warnedDirs.has(dir)) {
        warnedDirs.add(dir);
        options.warn(message);
      }
      return undefined;
    }
    let specs = loaded.get(dir);
    if (!specs) {
      specs = loadSpecs(dir, names);
      loaded.set(dir, specs);
      specs.catch(() => loaded.delete(dir));
    }
    return new ContractCheck(await specs, options.gaps ?? CONTRACT_GAPS);
  }

  private readonly found = new Map<string, ContractViolation>();
  /** Failed oneOf/anyOf exchanges, named only when asked (see {@link report}). */
  private pending: Array<() => void> = [];

  private constructor(private readonly specs: LoadedSpecs, private readonly gaps: readonly ContractGap[]) {}

  /** Every distinct violation since the last {@link clear}, documented gaps included. */
  public all(): ContractViolation[] {
    this.flush();
    return [...this.found.values()].map((v) => ({ ...v }));
  }

  /**
   * Gap entries no violation since the last {@link clear} matched. After judging every gap's
   * witness (test/world/contract-gaps.test.ts) it must be empty: an entry the specs no longer
   * need, or whose rule names nothing, is stale.
   */
  public unusedGaps(): string[] {
    const used = new Set(this.all().map((v) => v.gap));
    return this.gaps.filter((g) => !used.has(g.id)).map((g) => g.id);
  }

  /** Distinct violations no entry of contract-gaps.ts documents: a test must fail on any. */
  public undocumented(): ContractViolation[] {
    return this.all().filter((v) => v.gap === undefined);
  }

  public clear(): void {
    this.flush(); // the measuring report still hears of them
    this.found.clear();
  }

  /**
   * Judges a request against `spec`; returns the operation matched (for {@link checkResponse}).
   * An operation the governing spec lacks is looked up in flow-service.yaml, the general Flow
   * Service spec (destinations.yaml has no `GET /connectionSpecs/{id}`, for one).
   */
  public checkRequest(spec: SpecName, request: CheckedExchange): { spec: SpecName; operation: Operation } | undefined {
    const matched = this.match(spec, request) ?? (spec === 'destinations.yaml' ? this.match('flow-service.yaml', request) : undefined);
    if (!matched) {
      const operation = `${request.method} ${this.relative(spec, request.path)}`;
      const rule = 'no operation of the spec matches';
      const gap = this.gapsFor(spec, operation, 'request').find((g) => g.rule.test(rule) && (!g.when || g.when(request.body)));
      this.add({ spec, operation, direction: 'request', rule, ...(gap ? { gap: gap.id } : {}) });
      return undefined;
    }
    const api = this.specs.apis.get(matched.spec)!;
    const operationId = matched.operation.operationId!;
    const req = {
      method: request.method,
      path: this.relative(matched.spec, request.path),
      query: request.query,
      headers: request.headers as Record<string, string | string[]>,
      body: request.body,
    };
    const eachItem = Array.isArray(request.body) && this.gapsFor(matched.spec, operationId, 'request').some((g) => g.adapt === 'eachItem');
    const bodies = eachItem ? (request.body as unknown[]) : [request.body];
    if (eachItem) {
      // The documented gap "an array where the spec says one item": the array shape is the gap,
      // every item is still judged by the item schema.
      this.report(matched.spec, operationId, 'request', undefined, [{ instancePath: '/requestBody', keyword: 'type', params: { type: 'object' }, schemaPath: '', message: 'must be object' }], request.body);
    }
    bodies.forEach((body, index) => {
      const result = api.validateRequest({ ...req, body }, matched.operation);
      const errors = (result.errors ?? []).map((e) => (eachItem ? { ...e, instancePath: e.instancePath.replace(/^\/requestBody/, `/requestBody/${index}`) } : e));
      this.report(matched.spec, operationId, 'request', undefined, errors, body);
    });
    return matched;
  }

  /** Judges a response body against the operation {@link checkRequest} matched. */
  public checkResponse(matched: { spec: SpecName; operation: Operation }, status: number, body: unknown): void {
    const api = this.specs.apis.get(matched.spec)!;
    const operationId = matched.operation.operationId!;
    const items = (body as { items?: unknown } | undefined)?.items;
    if (status < 300 && Array.isArray(items) && this.gapsFor(matched.spec, operationId, 'response').some((g) => g.adapt === 'eachListItem')) {
      // The documented gap "a list wrapper where the spec says one item": each item is judged.
      this.report(matched.spec, operationId, 'response', status, [{ instancePath: '', keyword: 'listWrapper', params: {}, schemaPath: '', message: '' }], body);
      items.forEach((item, index) => {
        const errors = api.validateResponse(item, matched.operation, status).errors ?? [];
        this.report(matched.spec, operationId, 'response', status, errors.map((e) => ({ ...e, instancePath: `/items/${index}${e.instancePath}` })), item);
      });
      return;
    }
    const result = api.validateResponse(body, matched.operation, status);
    this.report(matched.spec, operationId, 'response', status, result.errors ?? [], body);
  }

  private match(spec: SpecName, request: CheckedExchange): { spec: SpecName; operation: Operation } | undefined {
    const api = this.specs.apis.get(spec)!;
    const rel = this.relative(spec, request.path);
    // flow-service.yaml writes PATCH and DELETE of a connection as `/connections/{id}/` (API-NOTES
    // §3.4); openapi-backend drops a request's trailing slash but not the definition's, so such a
    // path is matched here, its trailing slash aside.
    const method = request.method.toLowerCase();
    const exact = api.matchOperation({ method: request.method, path: rel, headers: {} });
    if (exact) return { spec, operation: exact };
    const slashed = api.router.getOperations().find((o) => o.method === method && o.path.length > 1 && o.path.endsWith('/')
      && new RegExp(`^${o.path.slice(0, -1).replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`).test(rel));
    // Its path params are read from the path without the slash too.
    return slashed ? { spec, operation: { ...slashed, path: slashed.path.slice(0, -1) } } : undefined;
  }

  private relative(spec: SpecName, fullPath: string): string {
    const base = BASE_PATHS[spec];
    return fullPath.startsWith(base) ? fullPath.substring(base.length) || '/' : fullPath;
  }

  /** `judged`: the object the errors are about (the body, or the list item or patch op judged alone), for a gap's `when`. */
  private report(
    spec: SpecName, operation: string, direction: GovernedDirection, status: number | undefined, errors: readonly ErrorObject[], judged: unknown,
  ): void {
    const name = (list: readonly ErrorObject[], on: unknown) => {
      for (const error of list) {
        const rule = describeRule(error);
        const gap = this.gapsFor(spec, operation, direction).find((g) => g.rule.test(rule) && (!g.when || g.when(on)));
        this.add({ spec, operation, direction, ...(status !== undefined ? { status } : {}), rule, ...(gap ? { gap: gap.id } : {}) });
      }
    };
    if (!errors.some(isComposite)) {
      name(errors, judged);
      return;
    }
    // Naming a failed oneOf/anyOf compiles its branches (100 ms and more the first time), which
    // must not happen while a client with a short timeout waits for this exchange: it is done
    // when the violations are read, on copies of what was judged.
    const copies = errors.map((e) => (isComposite(e) ? { ...e, data: structuredClone(e.data) } : e));
    const on = structuredClone(judged);
    const api = this.specs.apis.get(spec)!;
    this.pending.push(() => name(closestBranches(copies, () => validatorRoots(api, operation)), on));
  }

  private flush(): void {
    const pending = this.pending;
    this.pending = [];
    pending.forEach((work) => work());
  }

  private gapsFor(spec: SpecName, operation: string, direction: GovernedDirection): ContractGap[] {
    return this.gaps.filter((g) => g.spec === spec && g.direction === direction && (g.operations === '*' || g.operations.includes(operation)));
  }

  private add(violation: Omit<ContractViolation, 'count'>): void {
    const key = `${violation.spec} ${violation.operation} ${violation.direction} ${violation.rule}`;
    const seen = this.found.get(key);
    if (seen) {
      seen.count += 1;
      return;
    }
    this.found.set(key, { ...violation, count: 1 });
    const report = process.env.AEP_CONTRACT_REPORT;
    if (report) {
      // Measuring a whole run (many processes, many stand-ins): one JSON line per first sighting.
      fs.appendFileSync(report, `${JSON.stringify({ ...violation, test: currentTest() })}\n`);
    }
  }
}

/**
 * Whether tests, scenarios and the demo fail on undocumented violations: always, unless
 * `AEP_CONTRACT_STRICT=0` (a local escape hatch while triaging a new spec revision; CI never sets it).
 */
export function contractEnforced(): boolean {
  return process.env.AEP_CONTRACT_STRICT !== '0';
}

/**
 * What fails a test, scenario or demo: one line per undocumented violation the stand-in recorded
 * (none when enforcement is off). Shared by the handler harness, ScenarioWorld and the demo.
 */
export function contractFailures(aep: { contractViolations(): ContractViolation[] }): string[] {
  return contractEnforced() ? aep.contractViolations().map((v) => `contract violation: ${formatViolation(v)}`) : [];
}

/** One line per violation, for failure messages and the demo. */
export function formatViolation(v: ContractViolation): string {
  const where = v.direction === 'response' ? `response ${v.status}` : 'request';
  return `${v.spec} ${v.operation} ${where}: ${v.rule}${v.gap ? ` [documented gap ${v.gap}]` : ''} (×${v.count})`;
}

/**
 * For a failed `oneOf`/`anyOf` ajv reports the errors of every branch (S3, SFTP, Azure… for one
 * connection body), and with schemas shared between branches it even labels some errors with the
 * wrong branch. So each branch is validated on its own and the errors of the branch that came
 * closest (lowest weight, first on a tie) replace the composite error, so the rule names what is
 * actually wrong. A composite that several branches pass stays as it is (a `oneOf` ambiguity).
 */
function isComposite(error: ErrorObject): boolean {
  return (error.keyword === 'oneOf' || error.keyword === 'anyOf') && Array.isArray(error.schema);
}

function closestBranches(errors: readonly ErrorObject[], roots: () => readonly object[]): ErrorObject[] {
  const composites = errors.filter(isComposite);
  // Outermost first: the branch chosen there is re-judged as a whole, nested composites included.
  const outermost = composites.filter((c) => !composites.some((o) => o !== c && inScope(o, c)));
  let out = [...errors];
  for (const composite of outermost) {
    const results = branchErrors(composite, roots);
    if (!results) continue; // the branches cannot be judged one by one: the composite is the rule
    if (results.some((r) => r.length === 0)) {
      // Several branches pass (only a oneOf fails that way): the ambiguity is the rule.
      out = out.filter((e) => e === composite || !inScope(composite, e));
      continue;
    }
    const best = results.reduce((a, b) => (weight(b) < weight(a) ? b : a));
    const located = best.map((e) => ({ ...e, instancePath: `${composite.instancePath}${e.instancePath}` }));
    out = [...out.filter((e) => e !== composite && !inScope(composite, e)), ...closestBranches(located, roots)];
  }
  return out;
}

/** Whether `error` belongs to one of `composite`'s branches. */
function inScope(composite: ErrorObject, error: ErrorObject): boolean {
  return error !== composite && pointerOf(error.schemaPath).startsWith(`${pointerOf(composite.schemaPath)}/`)
    && error.instancePath.startsWith(composite.instancePath);
}

/**
 * A mismatched enum/const (a connection spec id, an auth spec name) or type (a string where the
 * branch wants an array) says "other branch" louder than a missing field.
 */
function weight(errors: readonly ErrorObject[]): number {
  return errors.reduce((n, e) => n + (['enum', 'const', 'type'].includes(e.keyword) ? 5 : 1), 0);
}

/** The root schemas of an operation's compiled validators (openapi-backend's, shared per process). */
function validatorRoots(api: OpenAPIBackend, operationId: string): object[] {
  const v = api.validator;
  const statusBased = Object.values(v.getStatusBasedResponseValidatorForOperation(operationId) ?? {});
  return [...(v.getRequestValidatorsForOperation(operationId) ?? []), ...statusBased]
    .filter((fn): fn is ValidateFunction => Boolean(fn))
    .map((fn) => fn.schema as object);
}

// openapi-backend compiles each operation's schema with repeated objects turned into `$ref`s to
// their first place (`#/properties/requestBody/oneOf/0/allOf/0`), so a branch only makes sense
// inside its root: each root gets an ajv of its own, under an id derived from its content, and
// branches are compiled as refs into it on first need (only an exchange that fails a oneOf/anyOf
// gets here). The same root and ref give the same key in every process, so the compiled branch is
// loaded from the validator disk cache after the first file of a run (~1 s of ajv work per file).
const branchAjvs = new Map<string, Ajv>();
const rootIds = new WeakMap<object, string>();
const branchValidators = new Map<string, ValidateFunction>();

/** The errors of each branch of `composite` judged alone, or undefined when its root is not found. */
function branchErrors(composite: ErrorObject, roots: () => readonly object[]): ErrorObject[][] | undefined {
  const [id, pointer] = splitSchemaPath(composite.schemaPath);
  // Equal in value, not identity: a validator loaded from the disk cache (validator-cache.ts)
  // reports a copy of its schema.
  const root = id ? undefined : roots().find((r) => isDeepStrictEqual(resolvePointer(r, pointer), composite.schema));
  const rootId = id ?? (root ? registerRoot(root) : undefined);
  const ajv = rootId ? branchAjvs.get(rootId) : undefined;
  if (!rootId || !ajv) return undefined;
  return (composite.schema as unknown[]).map((_, index) => {
    const ref = `${rootId}#${pointer}/${index}`;
    let validate = branchValidators.get(ref);
    if (!validate) {
      validate = ajv.compile({ $ref: ref });
      branchValidators.set(ref, validate);
    }
    return validate(composite.data) ? [] : [...(validate.errors ?? [])];
  });
}

function registerRoot(root: object): string {
  let id = rootIds.get(root);
  if (!id) {
    id = `contract-root-${createHash('sha256').update(JSON.stringify(root)).digest('hex').slice(0, 32)}`;
    if (!branchAjvs.has(id)) {
      const ajv = judgeAjv(new Ajv(judgeAjvOptions()));
      ajv.addSchema(root, id);
      branchAjvs.set(id, ajv);
    }
    rootIds.set(root, id);
  }
  return id;
}

/** `id#/a/b` → [`id`, `/a/b`]; `#/a/b` → [undefined, `/a/b`]. */
function splitSchemaPath(schemaPath: string): [string | undefined, string] {
  const hash = schemaPath.indexOf('#');
  return [hash > 0 ? schemaPath.substring(0, hash) : undefined, hash >= 0 ? schemaPath.substring(hash + 1) : schemaPath];
}

function pointerOf(schemaPath: string): string {
  return splitSchemaPath(schemaPath)[1];
}

function resolvePointer(root: unknown, pointer: string): unknown {
  let node = root;
  for (const raw of pointer.split('/').slice(1)) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** The formats of the spec validators: ajv-formats, plus OpenAPI's annotation-only formats. */
function formatsFor<T extends Ajv>(ajv: T): T {
  addFormats(ajv as unknown as Parameters<typeof addFormats>[0]);
  // OpenAPI formats that are annotations (or numeric ranges Adobe never means strictly).
  for (const format of ['int32', 'int64', 'float', 'double', 'password', 'binary', 'byte']) ajv.addFormat(format, true);
  return ajv;
}

/**
 * The rule an ajv error names, with array indexes generalised (`/items/3` → `/items/*`) so one
 * rule counts once however many items break it. ajv never puts a value in these fields.
 */
function describeRule(error: ErrorObject): string {
  const where = (error.instancePath || '/').replace(/\/\d+(?=\/|$)/g, '/*');
  const params = error.params as Record<string, unknown>;
  // passingSchemas: the branches a oneOf matched more than one of (null: none).
  const detail = params.missingProperty ?? params.additionalProperty ?? params.allowedValues ?? params.type ?? params.format ?? params.pattern
    ?? params.passingSchemas ?? undefined;
  return `${where} ${error.keyword}${detail !== undefined ? ` ${JSON.stringify(detail)}` : ''}`;
}

/**
 * openapi-backend with a definition that is parsed already. Its own loader imports an ESM-only
 * parser with a dynamic `import()`, which jest's CommonJS runtime refuses; in `quick` mode the
 * loaded document is not used anyway (the definition is dereferenced synchronously).
 */
class ParsedBackend extends OpenAPIBackend {
  public async loadDocument(): Promise<ConstructorParameters<typeof OpenAPIBackend>[0]['definition'] & object> {
    this.document = this.inputDocument as typeof this.document;
    return this.document;
  }
}

/**
 * Operations neither the handler, the doctor CLI nor the stand-in's routes use: spec authoring,
 * search, run management, Data Prep's expression and preview tools.
 */
const NEVER_CALLED: ReadonlySet<string> = new Set([
  'performAction', 'exploreConfigByConnectionId', 'getConnectionsByFilters', 'listConnectionSpecs', 'createConnectionSpec',
  'updateConnectionSpec', 'exploreByConnectionSpecId', 'getFlowsByFilters', 'createFlowSpec', 'updateFlowSpec', 'searchFlowSpecs',
  'createFlowRun', 'updateRun', 'postAction', 'performAction_1', 'performAction_2',
  'validateExpression', 'listMappingSetFunctions', 'listMappingSetOperators', 'validateMappingSet', 'previewMappingSet',
  'putMappingSet', 'listMappings', 'retrieveMapping',
]);

/**
 * The judge's ajv options. `verbose`: a failed oneOf carries its branches and data, so
 * closestBranches can judge each. `validateSchema: false`: ajv would otherwise compile the JSON
 * Schema meta-schema in every instance (openapi-backend makes one per operation) to check Adobe's
 * schemas, which is not the judge's business; what a request is judged by does not change.
 */
const JUDGE_AJV_OPTIONS = { strict: false, allErrors: true, verbose: true, validateSchema: false } as const;

/** The judge's ajv options, with the generated source kept when the disk cache is on (what it stores). */
function judgeAjvOptions(cacheDir: string | undefined = validatorCacheDir()) {
  return { ...JUDGE_AJV_OPTIONS, ...(cacheDir ? { code: { source: true } } : {}) };
}

/** An ajv of the judge (made with {@link judgeAjvOptions}): the formats, compiles through the disk cache. */
function judgeAjv<T extends Ajv>(ajv: T, cacheDir: string | undefined = validatorCacheDir()): T {
  return cacheCompiledValidators(formatsFor(ajv), cacheDir);
}

async function loadSpecs(dir: string, names: readonly SpecName[]): Promise<LoadedSpecs> {
  // Compiling every operation's validators is most of a stand-in's start; with the disk cache
  // the first process of a run compiles them and every later one loads ajv's code for them.
  const cacheDir = validatorCacheDir();
  const apis = new Map<SpecName, OpenAPIBackend>();
  await Promise.all(names.map(async (name) => {
    // `example(s)` are documentation, not contract: destinations.yaml even has a dangling
    // #/components/examples ref that stops dereferencing. Adobe's files stay untouched.
    const definition = stripExamples(readSpecFile(path.join(dir, name))) as ConstructorParameters<typeof OpenAPIBackend>[0]['definition'];
    const api = new ParsedBackend({
      definition,
      quick: true,
      strict: false,
      validate: true,
      coerceTypes: true,
      ajvOpts: judgeAjvOptions(cacheDir),
      customizeAjv: (ajv) => judgeAjv(ajv as unknown as Ajv, cacheDir) as unknown as typeof ajv,
    });
    await api.init();
    // The definition never changes after init, but openapi-backend rebuilds the list of operations
    // (a lodash chain over every path) on each getOperation(id) and on each match: once per
    // operation compiled and twice per exchange judged. One list per spec, built here.
    const operations = api.router.getOperations();
    api.router.getOperations = () => operations;
    // openapi-backend makes a new ajv (its meta-schemas, every format) for each operation's request
    // body, parameters and responses, ~200 instances per spec set and test file; none of them adds a
    // schema under an id, so one instance per kind of validation and options judges the same.
    const validator = api.validator as unknown as { getAjv(context: string, opts?: object): Ajv };
    const makeAjv = validator.getAjv.bind(validator);
    const instances = new Map<string, Ajv>();
    validator.getAjv = (context, opts = {}) => {
      const key = `${context} ${JSON.stringify(opts)}`;
      let ajv = instances.get(key);
      if (!ajv) instances.set(key, ajv = makeAjv(context, opts));
      return ajv;
    };
    // Compiled now, not on a request's first use: compiling one operation takes 100-200 ms of
    // the event loop the client shares, longer than the tests' shortest HTTP timeouts. Only the
    // per-status response validators (every response is judged with its status), and not the
    // operations no client here calls (compiled on first use should a test send one by hand).
    for (const operation of api.router.getOperations()) {
      const id = operation.operationId!;
      if (NEVER_CALLED.has(id)) continue;
      api.validator.getRequestValidatorsForOperation(id);
      api.validator.getStatusBasedResponseValidatorForOperation(id);
    }
    apis.set(name, api);
  }));
  return { apis };
}

function stripExamples(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripExamples);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([k]) => k !== 'example' && k !== 'examples').map(([k, v]) => [k, stripExamples(v)]));
  }
  return value;
}

/** `file › test name` of the running jest test, when there is one (for the measuring report only). */
function currentTest(): string | undefined {
  const state = (globalThis as { expect?: { getState?: () => { testPath?: string; currentTestName?: string } } }).expect?.getState?.();
  return state ? `${path.basename(state.testPath ?? '?')} › ${state.currentTestName ?? '?'}` : undefined;
}
