/**
 * The disk cache of parsed specs and compiled validators (offline-world/stand-in/validator-cache.ts)
 * makes a stand-in's start cheap in every test file but the first; it must never change a verdict.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import * as YAML from 'yaml';
import { CONTRACT_GAPS } from '../../offline-world/contract-gaps';
import { AUTH_ENVELOPE_SCHEMA, PATCH_BODY_SCHEMA } from '../../offline-world/stand-in/aep-validation';
import type * as ContractModule from '../../offline-world/stand-in/contract-check';
import { cacheCompiledValidators, derivedFromSpecFile, readSpecFile, validatorCacheStats } from '../../offline-world/stand-in/validator-cache';

const SPEC_DIR = process.env.AEP_CONTRACTS_DIR ?? path.resolve(__dirname, '../../../shared/contracts');
const FS = '/data/foundation/flowservice';
const HEADERS = {
  'authorization': 'Bearer token',
  'x-api-key': 'client',
  'x-gw-ims-org-id': 'ACME@AdobeOrg',
  'x-sandbox-name': 'prod',
  'content-type': 'application/json',
  'accept': 'application/json',
};

let cacheDir: string;
beforeEach(() => {
  cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'validator-cache-'));
});
afterEach(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

function sourceConnectionSchema(): object {
  // Through the spec cache of the run (these tests are about validators; the largest spec's YAML
  // parse is most of a second).
  const spec = readSpecFile(path.join(SPEC_DIR, 'flow-service.yaml')) as { components: { schemas: Record<string, object> } };
  return { ...spec.components.schemas.ConnectionSpec, components: spec.components };
}

function newAjv(): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: true, verbose: true, code: { source: true } });
  addFormats(ajv);
  return ajv;
}

test('a validator read back from the cache is not compiled again and gives the errors ajv gives in-process', () => {
  const schema = sourceConnectionSchema();
  const bodies = [{}, { name: 5, id: 'x' }, { name: 'ok', attributes: 'not an object' }, []];
  const reference = new Ajv({ strict: false, allErrors: true, verbose: true });
  addFormats(reference);
  const expected = bodies.map((b) => {
    const validate = reference.compile(schema);
    return [validate(b), validate.errors ?? null];
  });

  const first = cacheCompiledValidators(newAjv(), cacheDir);
  const fresh = first.compile(schema);
  expect(bodies.map((b) => [fresh(b), fresh.errors ?? null])).toEqual(expected);

  const second = newAjv();
  const compile = jest.spyOn(second, 'compile');
  cacheCompiledValidators(second, cacheDir);
  const hits = validatorCacheStats.hits;
  const loaded = second.compile(schema);
  expect(compile).not.toHaveBeenCalled(); // the wrapper replaced it: the original never ran
  expect(validatorCacheStats.hits).toBe(hits + 1);
  expect(bodies.map((b) => [loaded(b), loaded.errors ?? null])).toEqual(expected);
  expect(loaded.schema).toBe(schema);
});

test('a different option that shapes code (coerceTypes) is a different entry', () => {
  const schema = { type: 'object', properties: { n: { type: 'integer' } } };
  cacheCompiledValidators(newAjv(), cacheDir).compile(schema);
  const coercing = new Ajv({ strict: false, allErrors: true, verbose: true, coerceTypes: true, code: { source: true } });
  addFormats(coercing);
  const validate = cacheCompiledValidators(coercing, cacheDir).compile(schema);
  expect(validate({ n: '3' })).toBe(true);
  expect(fs.readdirSync(cacheDir).filter((f) => f.endsWith('.js'))).toHaveLength(2);
});

test('a damaged entry is compiled again, not trusted', () => {
  const schema = { type: 'string', minLength: 2 };
  cacheCompiledValidators(newAjv(), cacheDir).compile(schema);
  const [entry] = fs.readdirSync(cacheDir);
  fs.writeFileSync(path.join(cacheDir, entry), 'module.exports = ');
  const validate = cacheCompiledValidators(newAjv(), cacheDir).compile(schema);
  expect([validate('ab'), validate('a')]).toEqual([true, false]);
});

test('a spec file is parsed once per content and read back equal', () => {
  const file = path.join(SPEC_DIR, 'data-prep.yaml');
  const misses = validatorCacheStats.specMisses;
  const parsed = readSpecFile(file, cacheDir);
  expect(parsed).toEqual(YAML.parse(fs.readFileSync(file, 'utf8')));
  // A copy each time: the dereferencer writes into the document it is given.
  expect(readSpecFile(file, cacheDir)).not.toBe(parsed);
  expect(validatorCacheStats.specMisses).toBe(misses + 1);
});

test('a value derived from a spec file (its dereferenced form) is computed once per content and recipe, and read back equal', async () => {
  const file = path.join(SPEC_DIR, 'data-prep.yaml');
  let computed = 0;
  const derive = (recipe: string) => derivedFromSpecFile(file, recipe, async () => {
    computed += 1;
    return { recipe, keys: Object.keys(YAML.parse(fs.readFileSync(file, 'utf8'))) };
  }, cacheDir);
  const first = await derive('recipe A');
  const again = await derive('recipe A');
  expect(again).toEqual(first);
  expect(again).not.toBe(first); // a fresh copy for each caller
  expect(computed).toBe(1);
  // Another recipe (another parser version or option) is another entry.
  expect(await derive('recipe B')).toEqual({ ...(first as object), recipe: 'recipe B' });
  expect(computed).toBe(2);
  // A damaged entry is computed again, not trusted.
  for (const entry of fs.readdirSync(cacheDir)) fs.writeFileSync(path.join(cacheDir, entry), '{"half');
  expect(await derive('recipe A')).toEqual(first);
  expect(computed).toBe(3);
});

test('the stand-in\'s own schemas are valid JSON Schema (its ajv skips the meta-schema check for speed)', () => {
  // A malformed keyword (`required: 'x'`) would compile, without the check, into a looser rule:
  // a stand-in kinder than AEP. So the hand-written ones are checked here, once.
  const judge = new Ajv({ strict: false, allErrors: true });
  for (const schema of [PATCH_BODY_SCHEMA, AUTH_ENVELOPE_SCHEMA]) {
    expect(judge.validateSchema(schema)).toBe(true);
  }
  expect(judge.validateSchema({ type: 'object', required: 'x' })).toBe(false); // the check can fail
});

/** Every gap witness and a few bad requests, judged by a contract check loaded under `cache`. */
async function verdicts(cache: string): Promise<{ lines: string[]; hits: number }> {
  const saved = process.env.AEP_VALIDATOR_CACHE;
  process.env.AEP_VALIDATOR_CACHE = cache;
  try {
    let contract!: typeof ContractModule;
    let stats!: typeof validatorCacheStats;
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      contract = require('../../offline-world/stand-in/contract-check');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      stats = require('../../offline-world/stand-in/validator-cache').validatorCacheStats;
    });
    const check = (await contract.ContractCheck.load(SPEC_DIR, { required: true, warn: () => undefined }))!;
    for (const gap of CONTRACT_GAPS) {
      const w = gap.witness;
      const matched = check.checkRequest(gap.spec, { method: w.method, path: w.path, query: w.query ?? {}, headers: HEADERS, body: w.body });
      if (matched && w.response) check.checkResponse(matched, w.response.status, w.response.body);
    }
    // A destination connection whose auth fits no branch of the oneOf: the closest branch is named.
    const post = (body: unknown) => check.checkRequest('destinations.yaml', { method: 'POST', path: `${FS}/connections`, query: {}, headers: HEADERS, body });
    post({ name: 'x', auth: { specName: 'Access Key', params: { s3AccessKey: 1 } }, connectionSpec: { id: '4fce964d-3f37-408f-9778-e597338a21ee', version: '1.0' } });
    post({ name: 7 });
    return { lines: check.all().map(contract.formatViolation), hits: stats.hits };
  } finally {
    if (saved === undefined) delete process.env.AEP_VALIDATOR_CACHE;
    else process.env.AEP_VALIDATOR_CACHE = saved;
  }
}

test('the contract check names the same violations compiling in-process, filling the cache and reading it back', async () => {
  const inProcess = await verdicts('off');
  expect(inProcess.lines.length).toBeGreaterThan(CONTRACT_GAPS.length);
  expect(inProcess.hits).toBe(0);
  const filling = await verdicts(cacheDir);
  expect(filling.lines).toEqual(inProcess.lines);
  const reading = await verdicts(cacheDir);
  expect(reading.lines).toEqual(inProcess.lines);
  // Read back, every one of them (the first load also hits where two operations share a schema).
  expect(reading.hits).toBeGreaterThan(filling.hits);
});
