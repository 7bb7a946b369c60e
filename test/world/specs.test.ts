/**
 * Adobe's specs for a clone (offline-world/specs.ts): found in AEP_CONTRACTS_DIR, then
 * ../shared/contracts, then the cache `npm run fetch-specs` fills from Adobe's pinned revision.
 * Neither there: a loud failure naming the command. The fetcher runs against a local HTTP server
 * serving the files (no network in tests) and refuses a file whose sha256 differs.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { ADOBE_SPECS, FETCH_SPECS_COMMAND, fetchSpecs, resolveSpecDir, SPEC_FILE_NAMES, specCacheDir } from '../../offline-world/specs';
import { AepStandIn } from '../../offline-world/stand-in/aep';

const ROOT = path.resolve(__dirname, '../..');
const REAL = resolveSpecDir().dir;
let tmp: string;

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'specs-'));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A fresh clone: repository at <tmp>/clone, no <tmp>/shared, an empty home. */
function clone(): { repoRoot: string; homeDir: string; env: NodeJS.ProcessEnv } {
  const repoRoot = path.join(tmp, 'clone');
  const homeDir = path.join(tmp, 'home');
  fs.mkdirSync(repoRoot);
  fs.mkdirSync(homeDir);
  return { repoRoot, homeDir, env: {} };
}

function copySpecs(to: string, names = SPEC_FILE_NAMES): void {
  fs.mkdirSync(to, { recursive: true });
  for (const name of names) fs.copyFileSync(path.join(REAL, name), path.join(to, name));
}

/** Serves `<rev>/static/swagger-specs/<name>` as the raw GitHub host does, optionally tampered. */
async function serve(tamper?: string): Promise<{ url: string; hits: string[]; close: () => Promise<void> }> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    const match = /^\/([0-9a-f]{40})\/static\/swagger-specs\/([a-z-]+\.yaml)$/.exec(req.url ?? '');
    if (!match || match[1] !== ADOBE_SPECS.revision || !SPEC_FILE_NAMES.includes(match[2])) {
      res.writeHead(404).end('404: Not Found');
      return;
    }
    let body = fs.readFileSync(path.join(REAL, match[2]));
    if (match[2] === tamper) body = Buffer.concat([body, Buffer.from('\n# changed\n')]);
    res.writeHead(200, { 'content-type': 'text/plain' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

describe('where the specs are found', () => {
  test('a clone with no spec folder fails with the one command to run', () => {
    const where = clone();
    expect(() => resolveSpecDir(where)).toThrow(`Run \`${FETCH_SPECS_COMMAND}\``);
    expect(() => resolveSpecDir(where)).toThrow(specCacheDir(where));
  });

  test('order: AEP_CONTRACTS_DIR, then ../shared/contracts, then the cache', () => {
    const where = clone();
    copySpecs(specCacheDir(where));
    expect(resolveSpecDir(where)).toEqual({ dir: specCacheDir(where), source: 'cache' });
    copySpecs(path.join(tmp, 'shared', 'contracts'));
    expect(resolveSpecDir(where)).toEqual({ dir: path.join(tmp, 'shared', 'contracts'), source: 'shared' });
    copySpecs(path.join(tmp, 'mine'));
    expect(resolveSpecDir({ ...where, env: { AEP_CONTRACTS_DIR: path.join(tmp, 'mine') } })).toEqual({ dir: path.join(tmp, 'mine'), source: 'AEP_CONTRACTS_DIR' });
  });

  test('an incomplete folder does not count, and a named one that lacks a file is an error', () => {
    const where = clone();
    copySpecs(path.join(tmp, 'shared', 'contracts'), ['flow-service.yaml', 'destinations.yaml']);
    expect(() => resolveSpecDir(where)).toThrow(FETCH_SPECS_COMMAND);
    expect(() => resolveSpecDir({ ...where, env: { AEP_CONTRACTS_DIR: path.join(tmp, 'shared', 'contracts') } }))
      .toThrow(/AEP_CONTRACTS_DIR=.* lacks data-prep\.yaml/);
  });

  test('XDG_CACHE_HOME moves the cache', () => {
    expect(specCacheDir({ env: { XDG_CACHE_HOME: '/x/cache' } })).toBe(`/x/cache/cdk-aep-s3/contracts/${ADOBE_SPECS.revision}`);
    expect(specCacheDir({ env: {}, homeDir: '/home/u' })).toBe(`/home/u/.cache/cdk-aep-s3/contracts/${ADOBE_SPECS.revision}`);
  });

  test('the stand-in refuses to start without them, naming the command', async () => {
    // Closed if it does start, so a regression fails this test instead of hanging the run.
    const outcome = await AepStandIn.start({ specDir: path.join(tmp, 'none') })
      .then(async (s) => { await s.close(); return 'started without specs'; }, (e: Error) => e.message);
    expect(outcome).toContain(FETCH_SPECS_COMMAND);
  });
});

describe('fetchSpecs', () => {
  test('downloads the three files at the pinned revision, checks them and caches them where the resolver looks', async () => {
    const server = await serve();
    const where = clone();
    try {
      const dir = await fetchSpecs({ baseUrl: server.url, cacheDir: specCacheDir(where) });
      expect(dir).toBe(specCacheDir(where));
      expect(server.hits.sort()).toEqual(SPEC_FILE_NAMES.map((n) => `/${ADOBE_SPECS.revision}/static/swagger-specs/${n}`).sort());
      for (const name of SPEC_FILE_NAMES) expect(fs.readFileSync(path.join(dir, name))).toEqual(fs.readFileSync(path.join(REAL, name)));
      expect(resolveSpecDir(where)).toEqual({ dir, source: 'cache' });
      // A second run finds them cached and downloads nothing.
      await fetchSpecs({ baseUrl: server.url, cacheDir: dir });
      expect(server.hits).toHaveLength(3);
    } finally {
      await server.close();
    }
  });

  test('a file whose sha256 differs is refused and nothing is cached', async () => {
    const server = await serve('destinations.yaml');
    const where = clone();
    try {
      await expect(fetchSpecs({ baseUrl: server.url, cacheDir: specCacheDir(where) }))
        .rejects.toThrow(new RegExp(`destinations\\.yaml from .* has sha256 [0-9a-f]{64}, expected ${ADOBE_SPECS.files['destinations.yaml']}: refusing it`));
      expect(fs.existsSync(specCacheDir(where))).toBe(false);
      expect(() => resolveSpecDir(where)).toThrow(FETCH_SPECS_COMMAND);
    } finally {
      await server.close();
    }
  });

  test('an HTTP error is reported with its URL', async () => {
    const server = await serve();
    try {
      await expect(fetchSpecs({ baseUrl: `${server.url}/wrong`, cacheDir: path.join(tmp, 'c') })).rejects.toThrow(/\/wrong\/[0-9a-f]{40}\/.* -> HTTP 404/);
    } finally {
      await server.close();
    }
  });

  test('the copies in ../shared/contracts are the pinned files (same sha256)', () => {
    for (const name of SPEC_FILE_NAMES) {
      expect(createHash('sha256').update(fs.readFileSync(path.join(REAL, name))).digest('hex')).toBe(ADOBE_SPECS.files[name]);
    }
  });

  test('`npm run fetch-specs` (the script) fills the cache from a mirror given by AEP_SPECS_BASE_URL', async () => {
    const server = await serve();
    try {
      const env = { PATH: process.env.PATH ?? '', XDG_CACHE_HOME: path.join(tmp, 'xdg'), AEP_SPECS_BASE_URL: server.url, TS_NODE_PROJECT: 'tsconfig.dev.json' };
      const out = await new Promise<string>((resolve, reject) => execFile(process.execPath,
        ['-r', 'ts-node/register/transpile-only', 'offline-world/fetch-specs.ts', '--force'], { cwd: ROOT, env, timeout: 60_000 },
        (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout))));
      expect(out).toContain(`Cached in ${path.join(tmp, 'xdg', 'cdk-aep-s3', 'contracts', ADOBE_SPECS.revision)}`);
      for (const name of SPEC_FILE_NAMES) expect(fs.existsSync(path.join(tmp, 'xdg', 'cdk-aep-s3', 'contracts', ADOBE_SPECS.revision, name))).toBe(true);
    } finally {
      await server.close();
    }
  }, 60_000);
});
