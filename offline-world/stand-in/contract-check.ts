/**
 * An independent judge of every request the AEP stand-in receives and every response it sends:
 * openapi-backend (router + ajv, not the stand-in's own aep-validation.ts) matches each exchange
 * to an operation of the Adobe spec that governs the object and validates path, query, headers
 * and body. It only records: what the stand-in answers is decided elsewhere, so a violation never
 * changes a test's course, only its verdict (harness, scenario world and demo fail on any
 * violation that contract-gaps.ts does not document).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ErrorObject } from 'ajv';
import addFormats from 'ajv-formats';
import OpenAPIBackend, { type Operation } from 'openapi-backend';
import * as YAML from 'yaml';
import { CONTRACT_GAPS, type ContractGap, type GovernedDirection, type SpecName } from '../contract-gaps';

/** Where each spec's paths live under the gateway host (the `servers` entry of each file). */
const BASE_PATHS: Record<SpecName, string> = {
  'flow-service.yaml': '/data/foundation/flowservice',
  'destinations.yaml': '/data/foundation/flowservice',
  'data-prep.yaml': '/data/foundation/conversion',
};

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

/** Records contract violations of one stand-in; see {@link ContractCheck.load}. */
export class ContractCheck {
  /** Loads the three specs from `specDir`; undefined when one of them is missing (then nothing is judged). */
  public static async load(specDir: string): Promise<ContractCheck | undefined> {
    const dir = path.resolve(specDir);
    const names = Object.keys(BASE_PATHS) as SpecName[];
    if (names.some((name) => !fs.existsSync(path.join(dir, name)))) {
      return undefined;
    }
    let specs = loaded.get(dir);
    if (!specs) {
      specs = loadSpecs(dir, names);
      loaded.set(dir, specs);
      specs.catch(() => loaded.delete(dir));
    }
    return new ContractCheck(await specs);
  }

  private readonly found = new Map<string, ContractViolation>();

  private constructor(private readonly specs: LoadedSpecs) {}

  /** Every distinct violation since the last {@link clear}, documented gaps included. */
  public all(): ContractViolation[] {
    return [...this.found.values()].map((v) => ({ ...v }));
  }

  /** Distinct violations no entry of contract-gaps.ts documents: a test must fail on any. */
  public undocumented(): ContractViolation[] {
    return this.all().filter((v) => v.gap === undefined);
  }

  public clear(): void {
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
      const gap = this.gapsFor(spec, operation, 'request').find((g) => g.rule.test(rule));
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
      this.report(matched.spec, operationId, 'request', undefined, [{ instancePath: '/requestBody', keyword: 'type', params: { type: 'object' }, schemaPath: '', message: 'must be object' }]);
    }
    bodies.forEach((body, index) => {
      const result = api.validateRequest({ ...req, body }, matched.operation);
      const errors = (result.errors ?? []).map((e) => (eachItem ? { ...e, instancePath: e.instancePath.replace(/^\/requestBody/, `/requestBody/${index}`) } : e));
      this.report(matched.spec, operationId, 'request', undefined, errors);
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
      this.report(matched.spec, operationId, 'response', status, [{ instancePath: '', keyword: 'listWrapper', params: {}, schemaPath: '', message: '' }]);
      items.forEach((item, index) => {
        const errors = api.validateResponse(item, matched.operation, status).errors ?? [];
        this.report(matched.spec, operationId, 'response', status, errors.map((e) => ({ ...e, instancePath: `/items/${index}${e.instancePath}` })));
      });
      return;
    }
    const result = api.validateResponse(body, matched.operation, status);
    this.report(matched.spec, operationId, 'response', status, result.errors ?? []);
  }

  private match(spec: SpecName, request: CheckedExchange): { spec: SpecName; operation: Operation } | undefined {
    const api = this.specs.apis.get(spec)!;
    const rel = this.relative(spec, request.path);
    // flow-service.yaml writes PATCH and DELETE of a connection as `/connections/{id}/` (API-NOTES §3.4).
    const operation = api.matchOperation({ method: request.method, path: rel, headers: {} })
      ?? api.matchOperation({ method: request.method, path: `${rel}/`, headers: {} });
    return operation ? { spec, operation } : undefined;
  }

  private relative(spec: SpecName, fullPath: string): string {
    const base = BASE_PATHS[spec];
    return fullPath.startsWith(base) ? fullPath.substring(base.length) || '/' : fullPath;
  }

  private report(spec: SpecName, operation: string, direction: GovernedDirection, status: number | undefined, errors: readonly ErrorObject[]): void {
    for (const error of closestBranches(errors)) {
      const rule = describeRule(error);
      const gap = this.gapsFor(spec, operation, direction).find((g) => g.rule.test(rule));
      this.add({ spec, operation, direction, ...(status !== undefined ? { status } : {}), rule, ...(gap ? { gap: gap.id } : {}) });
    }
  }

  private gapsFor(spec: SpecName, operation: string, direction: GovernedDirection): ContractGap[] {
    return CONTRACT_GAPS.filter((g) => g.spec === spec && g.direction === direction && (g.operations === '*' || g.operations.includes(operation)));
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
 * Whether tests, scenarios and the demo fail on undocumented violations. Off until the violations
 * today's suite records are triaged (each fixed, or documented in contract-gaps.ts); set
 * `AEP_CONTRACT_STRICT=1` to enforce.
 */
export function contractEnforced(): boolean {
  return process.env.AEP_CONTRACT_STRICT === '1';
}

/**
 * Whether stand-ins load the contract check at all: enforced, measured (`AEP_CONTRACT_REPORT`)
 * or asked for (`AEP_CONTRACT_CHECK=1`). Loading and compiling the three specs costs a few
 * seconds per process, which the default suite does not pay while nothing is enforced.
 */
export function contractCheckWanted(): boolean {
  return contractEnforced() || Boolean(process.env.AEP_CONTRACT_REPORT) || process.env.AEP_CONTRACT_CHECK === '1';
}

/** One line per violation, for failure messages and the demo. */
export function formatViolation(v: ContractViolation): string {
  const where = v.direction === 'response' ? `response ${v.status}` : 'request';
  return `${v.spec} ${v.operation} ${where}: ${v.rule}${v.gap ? ` [documented gap ${v.gap}]` : ''} (×${v.count})`;
}

/**
 * For a failed `oneOf`/`anyOf` ajv reports the errors of every branch (S3, SFTP, Azure… for one
 * connection body). Keeps those of the branch that came closest (fewest errors, first on a tie)
 * in place of the composite error, so the rule names what is actually wrong.
 */
function closestBranches(errors: readonly ErrorObject[]): ErrorObject[] {
  let out = [...errors];
  const composites = errors.filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf')
    .sort((a, b) => b.schemaPath.length - a.schemaPath.length);
  for (const composite of composites) {
    const prefix = `${composite.schemaPath}/`;
    const inBranch = (e: ErrorObject) => e.schemaPath.startsWith(prefix) && e.instancePath.startsWith(composite.instancePath);
    const branches = new Map<string, ErrorObject[]>();
    for (const e of out.filter(inBranch)) {
      const branch = e.schemaPath.substring(prefix.length).split('/')[0];
      branches.set(branch, [...(branches.get(branch) ?? []), e]);
    }
    if (branches.size === 0) continue; // matched several branches: the composite error is the rule
    // A mismatched enum/const (a connection spec id, an auth spec name) says "other branch" louder than a missing field.
    const weight = (list: ErrorObject[]) => list.reduce((n, e) => n + (e.keyword === 'enum' || e.keyword === 'const' ? 5 : 1), 0);
    const best = [...branches.values()].reduce((a, b) => (weight(b) < weight(a) ? b : a));
    out = out.filter((e) => e !== composite && (!inBranch(e) || best.includes(e)));
  }
  return out;
}

/**
 * The rule an ajv error names, with array indexes generalised (`/items/3` → `/items/*`) so one
 * rule counts once however many items break it. ajv never puts a value in these fields.
 */
function describeRule(error: ErrorObject): string {
  const where = (error.instancePath || '/').replace(/\/\d+(?=\/|$)/g, '/*');
  const params = error.params as Record<string, unknown>;
  const detail = params.missingProperty ?? params.additionalProperty ?? params.allowedValues ?? params.type ?? params.format ?? params.pattern;
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

async function loadSpecs(dir: string, names: readonly SpecName[]): Promise<LoadedSpecs> {
  const apis = new Map<SpecName, OpenAPIBackend>();
  await Promise.all(names.map(async (name) => {
    // `example(s)` are documentation, not contract: destinations.yaml even has a dangling
    // #/components/examples ref that stops dereferencing. Adobe's files stay untouched.
    const definition = stripExamples(YAML.parse(fs.readFileSync(path.join(dir, name), 'utf8'))) as ConstructorParameters<typeof OpenAPIBackend>[0]['definition'];
    const api = new ParsedBackend({
      definition,
      quick: true,
      strict: false,
      validate: true,
      coerceTypes: true,
      ajvOpts: { strict: false, allErrors: true },
      customizeAjv: (ajv) => {
        addFormats(ajv as unknown as Parameters<typeof addFormats>[0]);
        // OpenAPI formats that are annotations (or numeric ranges Adobe never means strictly).
        for (const format of ['int32', 'int64', 'float', 'double', 'password', 'binary', 'byte']) ajv.addFormat(format, true);
        return ajv;
      },
    });
    await api.init();
    // Compiled now, not on a request's first use: compiling one operation takes 100-200 ms of
    // the event loop the client shares, longer than the tests' shortest HTTP timeouts.
    api.validator.preCompileRequestValidators();
    api.validator.preCompileResponseValidators();
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
