/**
 * Where the offline world finds Adobe's OpenAPI specs, and how a clone gets them.
 *
 * Adobe's files are never copied into this repository. They are read from, in order:
 *  1. `AEP_CONTRACTS_DIR` (any folder holding the three files);
 *  2. `../shared/contracts` beside the repository (the project's machines have it);
 *  3. the cache `npm run fetch-specs` fills: `$XDG_CACHE_HOME/cdk-aep-s3/contracts/<revision>/`
 *     (default `~/.cache/...`), downloaded from Adobe's published location at a pinned commit and
 *     checked against a sha256 per file.
 * When none holds them the stand-in refuses to start and names the command to run: a stand-in
 * that validates nothing would let a wrong request pass in silence.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import * as os from 'os';
import * as path from 'path';

/** The command that fills the cache; every "specs missing" message names it. */
export const FETCH_SPECS_COMMAND = 'npm run fetch-specs';

/**
 * Adobe publishes the Experience Platform API references as OpenAPI files in the AdobeDocs
 * repository behind developer.adobe.com/experience-platform-apis. Pinned to one commit so every
 * clone validates against the same text; the checksums are those of the files at that commit
 * (the copies in ../shared/contracts are byte-identical to them).
 */
export const ADOBE_SPECS = {
  repository: 'https://github.com/AdobeDocs/experience-platform-apis',
  revision: '5fd9766204d5903092cea0c341fcb69d5e87942f',
  baseUrl: 'https://raw.githubusercontent.com/AdobeDocs/experience-platform-apis',
  folder: 'static/swagger-specs',
  files: {
    'flow-service.yaml': 'f97b8f36a5ecb3282b9d65f1c3e0f283ed4afaf676053a1ef40b80857f660932',
    'destinations.yaml': '11e92fbf774a46b75ca64afe422afa120506c2222be7f3f6ee291932f685d038',
    'data-prep.yaml': '788a247d10f45e02f6f88bedbe2211931f1b4ed561191589b9404793b45e30a1',
  } as Record<string, string>,
} as const;

/** The spec file names the stand-in needs. */
export const SPEC_FILE_NAMES = Object.keys(ADOBE_SPECS.files);

/** Where the specs were found. */
export interface ResolvedSpecs {
  readonly dir: string;
  /** Which of the three places held them. */
  readonly source: 'AEP_CONTRACTS_DIR' | 'shared' | 'cache';
}

/** Inputs of {@link resolveSpecDir}, overridable so tests can stand in for a fresh clone. */
export interface SpecLocations {
  /** Default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** The repository root (default: the parent of offline-world/). */
  readonly repoRoot?: string;
  /** Default `os.homedir()`. */
  readonly homeDir?: string;
}

/** The cache folder for one pinned revision. */
export function specCacheDir(locations: SpecLocations = {}, revision: string = ADOBE_SPECS.revision): string {
  const env = locations.env ?? process.env;
  const base = env.XDG_CACHE_HOME || path.join(locations.homeDir ?? os.homedir(), '.cache');
  return path.join(base, 'cdk-aep-s3', 'contracts', revision);
}

function missingIn(dir: string): string[] {
  return SPEC_FILE_NAMES.filter((name) => !fs.existsSync(path.join(dir, name)));
}

/**
 * The folder holding Adobe's specs, by the order above. Throws, naming the places looked at and
 * {@link FETCH_SPECS_COMMAND}, when none holds all three files. `AEP_CONTRACTS_DIR`, when set,
 * is the only place looked at: a folder named on purpose that lacks a file is a mistake to report,
 * not a reason to validate against other files.
 */
export function resolveSpecDir(locations: SpecLocations = {}): ResolvedSpecs {
  const env = locations.env ?? process.env;
  const explicit = env.AEP_CONTRACTS_DIR;
  if (explicit) {
    const dir = path.resolve(explicit);
    const missing = missingIn(dir);
    if (missing.length) {
      throw new Error(`Adobe's OpenAPI specs: AEP_CONTRACTS_DIR=${dir} lacks ${missing.join(', ')}. `
        + `Point it at a folder with ${SPEC_FILE_NAMES.join(', ')}, or unset it and run \`${FETCH_SPECS_COMMAND}\`.`);
    }
    return { dir, source: 'AEP_CONTRACTS_DIR' };
  }
  const shared = path.resolve(locations.repoRoot ?? path.resolve(__dirname, '..'), '..', 'shared', 'contracts');
  if (missingIn(shared).length === 0) return { dir: shared, source: 'shared' };
  const cache = specCacheDir(locations);
  if (missingIn(cache).length === 0) return { dir: cache, source: 'cache' };
  throw new Error(`Adobe's OpenAPI specs not found, so the AEP stand-in cannot check requests against them. Run \`${FETCH_SPECS_COMMAND}\` `
    + `(downloads ${SPEC_FILE_NAMES.join(', ')} from ${ADOBE_SPECS.repository} at ${ADOBE_SPECS.revision.slice(0, 12)}, checks their sha256, `
    + `caches them in ${cache}). Looked in: AEP_CONTRACTS_DIR (unset), ${shared}, ${cache}.`);
}

/** Options of {@link fetchSpecs}. */
export interface FetchSpecsOptions {
  /** Default {@link ADOBE_SPECS.baseUrl}, or env `AEP_SPECS_BASE_URL` (a mirror; the checksums still apply). */
  readonly baseUrl?: string;
  /** Default {@link specCacheDir}. */
  readonly cacheDir?: string;
  /** Progress lines (default: discard). */
  readonly log?: (line: string) => void;
}

function download(url: string, redirects = 5): Promise<Buffer> {
  const client = url.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.get(url, { timeout: 30_000 }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location && redirects > 0) {
        res.resume();
        resolve(download(new URL(res.headers.location, url).toString(), redirects - 1));
        return;
      }
      if (status !== 200) {
        res.resume();
        reject(new Error(`GET ${url} -> HTTP ${status}`));
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks)));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer within 30 s`)));
    req.on('error', reject);
  });
}

/**
 * Downloads the three specs at the pinned revision into the cache, each checked against its
 * sha256 before anything is written: a mismatch (a moved revision, a tampering mirror, a proxy's
 * error page) writes nothing and throws. Files already cached with the right checksum are kept.
 * Returns the cache folder.
 */
export async function fetchSpecs(options: FetchSpecsOptions = {}): Promise<string> {
  const log = options.log ?? (() => undefined);
  const base = (options.baseUrl ?? process.env.AEP_SPECS_BASE_URL ?? ADOBE_SPECS.baseUrl).replace(/\/+$/, '');
  const cacheDir = options.cacheDir ?? specCacheDir();
  const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
  const verified = new Map<string, Buffer>();
  for (const [name, expected] of Object.entries(ADOBE_SPECS.files)) {
    const cached = path.join(cacheDir, name);
    if (fs.existsSync(cached) && sha256(fs.readFileSync(cached)) === expected) {
      log(`${name}: already cached (sha256 ok)`);
      continue;
    }
    const url = `${base}/${ADOBE_SPECS.revision}/${ADOBE_SPECS.folder}/${name}`;
    const data = await download(url);
    const actual = sha256(data);
    if (actual !== expected) {
      throw new Error(`${name} from ${url} has sha256 ${actual}, expected ${expected}: refusing it (nothing was written to ${cacheDir}).`);
    }
    log(`${name}: downloaded ${data.length} bytes (sha256 ok)`);
    verified.set(name, data);
  }
  fs.mkdirSync(cacheDir, { recursive: true });
  for (const [name, data] of verified) {
    // Write then rename: an interrupted run never leaves a truncated file that looks cached.
    const tmp = path.join(cacheDir, `.${name}.${process.pid}.tmp`);
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, path.join(cacheDir, name));
  }
  return cacheDir;
}
