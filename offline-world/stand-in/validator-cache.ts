/**
 * Adobe's specs parsed, and ajv validators compiled, kept on disk: shared by every process of a
 * test run (jest runs each test file in a fresh module registry, so without this every file that
 * started a stand-in parsed the three YAML files and compiled the validators again).
 *
 * Parsing: YAML.parse of the three specs (660 KB) takes seconds; the JSON of the result, keyed by
 * the file's sha256, is read back in milliseconds (specs are plain JSON values, nothing is lost).
 *
 * Compiling:
 * Compiling the contract check's validators (contract-check.ts: ~200 per-operation validators of
 * Adobe's three specs) is most of a stand-in's start-up, and jest runs every test file in a fresh
 * module registry, so each file that started a stand-in paid it again (5-7 s of CPU per file).
 * Here ajv's own standalone code of each validator is written once, under a key that hashes
 * everything the generated code depends on (the schema, the ajv options that shape code, the
 * formats, the ajv and ajv-formats versions), and later compiles of the same schema load that code
 * instead. It is the code ajv would generate in the process itself, so the judge is exactly as
 * strict; only the identity of `error.schema` differs (a copy of the schema, equal in value).
 *
 * Where: `AEP_VALIDATOR_CACHE` (a folder), default `<tmp>/cdk-aep-s3-validators`, outside git;
 * `AEP_VALIDATOR_CACHE=off` compiles in-process as before.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type Ajv from 'ajv';
import type { AnySchema, ValidateFunction } from 'ajv';
import standaloneCode from 'ajv/dist/standalone';
import * as YAML from 'yaml';

/** Bumped whenever the layout of a cache entry changes. */
const ENTRY_FORMAT = 2;
/** The installed version of a package (part of cache keys), resolved from `from` (default: here). */
export const versionOf = (name: string, from?: string): string =>
  JSON.parse(fs.readFileSync(require.resolve(`${name}/package.json`, from ? { paths: [from] } : undefined), 'utf8')).version;
const VERSIONS = `${ENTRY_FORMAT}/${versionOf('ajv')}/${versionOf('ajv-formats')}`;
const YAML_VERSION = `${ENTRY_FORMAT}/${versionOf('yaml')}`;

/**
 * The ajv options that change the generated code. Others (logger, code.source itself) do not.
 */
const CODE_SHAPING_OPTIONS = [
  'strict', 'strictSchema', 'strictNumbers', 'strictTypes', 'strictTuples', 'strictRequired', 'allErrors', 'verbose', 'coerceTypes',
  'useDefaults', 'removeAdditional', '$data', 'ownProperties', 'validateFormats', 'discriminator', 'unicodeRegExp', 'int32range',
  'messages', 'multipleOfPrecision', 'allowMatchingProperties', 'allowUnionTypes', 'unevaluated', 'dynamicRef', 'jtd', 'passContext',
  'loopRequired', 'loopEnum', 'schemaId', 'addUsedSchema', 'validateSchema',
] as const;

/** Counts of one process, for tests and the bench. */
export const validatorCacheStats = { hits: 0, misses: 0, specHits: 0, specMisses: 0 };

/** The cache folder, or undefined when switched off. */
export function validatorCacheDir(): string | undefined {
  const setting = process.env.AEP_VALIDATOR_CACHE;
  if (setting === 'off') return undefined;
  return setting || path.join(os.tmpdir(), 'cdk-aep-s3-validators');
}

/**
 * Makes `ajv.compile` go through the disk cache in `dir`. The instance must be created with
 * `code: { source: true }` (ajv keeps the generated source only then). Formats must be added
 * before the first compile: they are part of the key.
 */
export function cacheCompiledValidators<T extends Ajv>(ajv: T, dir: string | undefined = validatorCacheDir()): T {
  if (!dir) return ajv;
  if (!ajv.opts.code.source) throw new Error('validator cache: the ajv instance needs code: { source: true }');
  const compile = ajv.compile.bind(ajv);
  const cached = (schema: AnySchema): ValidateFunction => {
    const file = path.join(dir, `${keyOf(ajv, schema)}.js`);
    const loaded = load(file);
    if (loaded) {
      validatorCacheStats.hits += 1;
      // What a compiled validator carries and callers read (contract-check.ts judges branches with it).
      return Object.assign(loaded, { schema });
    }
    validatorCacheStats.misses += 1;
    const validate = compile(schema);
    store(file, standaloneCode(ajv, validate));
    return validate;
  };
  ajv.compile = cached as T['compile'];
  return ajv;
}

// The JSON text of each spec this process read: every caller gets its own copy (the dereferencer
// writes into the document it is given).
const specTexts = new Map<string, string>();

/** A YAML spec file as a fresh JSON value, parsed once per content across processes. */
export function readSpecFile(file: string, dir: string | undefined = validatorCacheDir()): unknown {
  const source = fs.readFileSync(file);
  const key = createHash('sha256').update(YAML_VERSION).update('\0').update(source).digest('hex');
  let text = specTexts.get(key);
  if (text === undefined && dir) {
    try {
      text = fs.readFileSync(path.join(dir, `${key}.json`), 'utf8');
      validatorCacheStats.specHits += 1;
    } catch {
      // not cached yet
    }
  }
  if (text === undefined) {
    validatorCacheStats.specMisses += 1;
    text = JSON.stringify(YAML.parse(source.toString('utf8')));
    if (dir) store(path.join(dir, `${key}.json`), text);
  }
  specTexts.set(key, text);
  return JSON.parse(text);
}

/**
 * A JSON value derived from a spec file (its dereferenced form, say), computed once per content of
 * the file and `recipe` across processes; `recipe` names everything else the value depends on (the
 * library and its version, the options). Each caller gets a fresh copy.
 */
export async function derivedFromSpecFile(
  file: string, recipe: string, compute: () => Promise<unknown>, dir: string | undefined = validatorCacheDir(),
): Promise<unknown> {
  if (!dir) return compute();
  // YAML_VERSION: the value is computed from the parsed file (readSpecFile), so the parser is an input.
  const key = createHash('sha256').update(`${YAML_VERSION}/derived`).update('\0').update(recipe).update('\0').update(fs.readFileSync(file)).digest('hex');
  const entry = path.join(dir, `${key}.json`);
  try {
    const text = fs.readFileSync(entry, 'utf8');
    validatorCacheStats.specHits += 1;
    return JSON.parse(text);
  } catch {
    // not cached yet (or unreadable: computed again and rewritten)
  }
  validatorCacheStats.specMisses += 1;
  const value = await compute();
  const text = JSON.stringify(value);
  store(entry, text);
  return JSON.parse(text); // the same shape a later process reads back (shared subtrees become copies)
}

function keyOf(ajv: Ajv, schema: AnySchema): string {
  const opts = ajv.opts as unknown as Record<string, unknown>;
  const shaping = Object.fromEntries(CODE_SHAPING_OPTIONS.map((name) => [name, opts[name]]));
  // A format is either `true` (an annotation, no code) or code found under ajv-formats' export.
  const formats = Object.entries(ajv.formats).map(([name, format]) => `${name}:${format === true ? 'any' : 'code'}`).sort();
  // Schemas added to the instance (addSchema) that a $ref may reach: their code is part of the output.
  const added = Object.entries((ajv as unknown as { schemas: Record<string, { meta?: boolean; schema: unknown } | undefined> }).schemas)
    .filter(([, env]) => env && !env.meta).map(([id, env]) => [id, env!.schema]).sort(([a], [b]) => String(a).localeCompare(String(b)));
  return createHash('sha256')
    .update(JSON.stringify({ versions: VERSIONS, shaping, formatsCode: String(ajv.opts.code.formats ?? ''), formats, schema, added }))
    .digest('hex');
}

function load(file: string): ValidateFunction | undefined {
  let code: string;
  try {
    code = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const module = { exports: {} as { default?: ValidateFunction } };
  try {
    // The standalone module's requires (ajv's runtime helpers, ajv-formats) resolve from here.
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    new Function('module', 'exports', 'require', code)(module, module.exports, require);
  } catch {
    return undefined; // an unreadable entry is compiled again (and rewritten)
  }
  return typeof module.exports.default === 'function' ? module.exports.default : undefined;
}

/** Written under a temporary name and renamed: parallel workers never read half an entry. */
function store(file: string, code: string): void {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const temporary = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    fs.writeFileSync(temporary, code);
    fs.renameSync(temporary, file);
  } catch {
    // A read-only or full disk only costs the next process a compile.
  }
}
