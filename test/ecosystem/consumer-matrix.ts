/**
 * Consumer matrix: the packed library, installed from its tarball into fresh CDK apps, as users
 * install it today.
 *
 *   cell A: aws-cdk-lib at the declared minimum (2.180.0) + the latest cdk-nag 2 (an Aspect)
 *   cell B: the latest aws-cdk-lib 2.x + the latest cdk-nag 3 (a Validations plugin)
 *
 * Each cell's app (consumer-app.js) builds a destination in every auth mode and a source in every
 * auth mode, token folder paths (CfnParameter) included, under AwsSolutionsChecks. Asserted: 0
 * findings from the library's resources (a canary stack proves the checks report at all), the
 * token folder paths reach the template, and the tarball holds the handler bundle, no
 * lib/handler/*.js besides what runtime code loads, and no inline source maps.
 *
 * Not a jest test: it needs the npm registry and the jsii build (`npx projen compile`), so
 * `.ci/run` runs it after both:
 *   npx ts-node --transpile-only --project tsconfig.dev.json test/ecosystem/consumer-matrix.ts
 * It packs the repository itself, or takes the tarball in CONSUMER_TARBALL (CI packs once).
 * Installs share npm's cache (`--prefer-offline`) and run in parallel. The apps live in a temp
 * directory outside the repository, so nothing resolves from the repository's node_modules.
 */
import { execFile, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import * as ts from 'typescript';

const run = promisify(execFile);
const root = path.resolve(__dirname, '../..');
const MINIMUM_CDK = '2.180.0';
const NPM_INSTALL = ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];

interface Cell {
  readonly name: string;
  readonly awsCdkLib: string;
  readonly cdkNag: string;
  /** README blocks this cell type-checks and runs (the cdk-nag 3 recipe is a ```js block). */
  readonly readmeBlocks?: string[];
}

interface Finding {
  readonly rule: string;
  readonly path: string;
}

interface AppReport {
  readonly awsCdkLib: string;
  readonly cdkNag: string;
  readonly resolved: Record<string, string>;
  readonly libraryFindings: Finding[];
  readonly librarySynthError?: string;
  readonly canaryFindings: number;
  readonly tokenRefs: Record<string, number>;
  /** The org id the consumer app gives its sandbox. */
  readonly imsOrgId: string;
  /** Per role trusting Adobe's destinations account: each trust statement's Condition (null when none). */
  readonly adobeTrusts: Array<Array<unknown>>;
}

const failures: string[] = [];
function check(condition: boolean, message: string): void {
  if (!condition) failures.push(message);
}

async function npm(args: string[], cwd: string): Promise<string> {
  const { stdout } = await run('npm', args, { cwd, maxBuffer: 64 * 1024 * 1024, env: npmEnv() });
  return stdout;
}

/** No NODE_PATH or npm prefix settings from the caller: the apps resolve from their own node_modules only. */
function npmEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_PATH;
  for (const key of Object.keys(env)) {
    if (/^npm_(config_prefix|package_)/i.test(key)) delete env[key];
  }
  return env;
}

/** Highest version of `major` in a list (registry order is not semver order). */
function latestOfMajor(versions: string[], major: number): string {
  const release = versions.filter((v) => /^\d+\.\d+\.\d+$/.test(v) && Number(v.split('.')[0]) === major);
  const key = (v: string) => v.split('.').map(Number);
  release.sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
  });
  if (release.length === 0) throw new Error(`no ${major}.x release`);
  return release[release.length - 1];
}

/** The README's ```js blocks: the cdk-nag 3 recipe, which needs aws-cdk-lib >= 2.257. */
function readmeJsBlocks(): string[] {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
  if (blocks.length === 0) throw new Error('README.md has no ```js block (the cdk-nag 3 recipe)');
  return blocks;
}

/** Top-level entries of the tarball: what a consumer loads or reads (maintainers' scripts, sources, tests stay out). */
const SHIPPED_TOP_LEVEL = ['.jsii', '.jsii.tabl.json', 'API.md', 'LICENSE', 'README.md', 'assets', 'lib', 'package.json'];
/** assets/: the two bundles and nothing else (a crashed bundle run's temp file would ship otherwise). */
const SHIPPED_ASSETS = ['assets/cli/index.js', 'assets/handler/aep.lambda/index.js'];

/**
 * What the tarball ships: only {@link SHIPPED_TOP_LEVEL} and {@link SHIPPED_ASSETS}, the handler bundle,
 * only the handler file runtime code loads, no inline maps.
 */
function checkTarball(unpacked: string, files: string[]): void {
  const extra = [...new Set(files.map((f) => f.split('/')[0]))].filter((entry) => !SHIPPED_TOP_LEVEL.includes(entry));
  check(extra.length === 0, `tarball: ships ${extra.join(', ')}, which no consumer loads (add it to .npmignore through .projenrc.ts)`);
  const assets = files.filter((f) => f.startsWith('assets/')).sort();
  check(JSON.stringify(assets) === JSON.stringify(SHIPPED_ASSETS), `tarball: assets/ must hold exactly ${SHIPPED_ASSETS.join(', ')}, got ${assets.join(', ')}`);
  check(files.includes('assets/handler/aep.lambda/index.js'), 'tarball: no handler bundle at assets/handler/aep.lambda/index.js');
  // The rosetta translations: Construct Hub and jsii-pacmak read them beside .jsii.
  check(files.includes('.jsii.tabl.json'), "tarball: no .jsii.tabl.json (run 'npx projen rosetta:extract' before packing)");
  const handlerJs = files.filter((f) => /^lib\/handler\/.*\.js$/.test(f));
  check(JSON.stringify(handlerJs) === JSON.stringify(['lib/handler/aep-function.js']),
    `tarball: lib/handler/*.js must be exactly lib/handler/aep-function.js, got ${JSON.stringify(handlerJs)}`);
  const runtimeOnly = files.filter((f) => /^lib\/(aep|aws|plumbing|cli|decisions)\//.test(f));
  check(runtimeOnly.length === 0, `tarball: runtime layers run from the bundles, yet lib/ ships ${runtimeOnly.join(', ')}`);
  const inline = files.filter((f) => f.endsWith('.js') && /sourceMappingURL=data:/.test(fs.readFileSync(path.join(unpacked, f), 'utf8')));
  check(inline.length === 0, `tarball: inline source maps in ${inline.join(', ')}`);
  const maps = files.filter((f) => f.endsWith('.map'));
  check(maps.length === 0, `tarball: source map files ${maps.join(', ')}`);
}

function listFiles(dir: string, prefix = ''): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => e.isDirectory()
    ? listFiles(path.join(dir, e.name), `${prefix}${e.name}/`)
    : [`${prefix}${e.name}`]);
}

async function runCell(work: string, cell: Cell, tarball: string, constructs: string, timings: Record<string, number>): Promise<AppReport> {
  const dir = path.join(work, `cell-${cell.name}`);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({
    name: `consumer-${cell.name.toLowerCase()}`,
    private: true,
    dependencies: {
      'aws-cdk-lib': cell.awsCdkLib,
      'constructs': constructs,
      'cdk-nag': cell.cdkNag,
      'cdk-aep-s3': `file:${tarball}`,
    },
  }, null, 2));
  fs.copyFileSync(path.join(__dirname, 'consumer-app.js'), path.join(dir, 'app.js'));

  let t = Date.now();
  await npm(NPM_INSTALL, dir);
  timings[`install ${cell.name}`] = Date.now() - t;

  // The app (a child process) and the README blocks (a type-check in this process, then a child)
  // run side by side: they share nothing but the installed node_modules.
  const synthStart = Date.now();
  const app = run(process.execPath, ['app.js'], { cwd: dir, maxBuffer: 64 * 1024 * 1024, env: npmEnv() })
    .finally(() => { timings[`synth ${cell.name}`] = Date.now() - synthStart; });
  app.catch(() => undefined); // awaited below; no unhandled rejection while the README blocks run
  t = Date.now();
  for (const [i, block] of (cell.readmeBlocks ?? []).entries()) await runReadmeBlock(dir, `readme-${i + 1}`, block, cell.name);
  if (cell.readmeBlocks) timings[`README ${cell.name}`] = Date.now() - t;
  let stdout: string;
  try {
    ({ stdout } = await app);
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`cell ${cell.name}: the consumer app failed: ${err.message}\n${err.stderr ?? ''}`);
  }
  const lines = stdout.trim().split('\n');
  const report = JSON.parse(lines[lines.length - 1]) as AppReport;
  for (const [pkg, where] of Object.entries(report.resolved)) {
    check(where.startsWith(fs.realpathSync(dir) + path.sep), `cell ${cell.name}: ${pkg} resolved outside the consumer app (${where})`);
  }
  return report;
}

/**
 * A README block the repository cannot compile (it needs a newer aws-cdk-lib than the minimum the
 * repository builds with): type-checked strictly against this cell's own node_modules, then run,
 * with every App it creates synthesized (cdk-nag 3 fails the synth on any finding).
 */
async function runReadmeBlock(dir: string, name: string, code: string, cellName: string): Promise<void> {
  const file = path.join(dir, `${name}.ts`);
  fs.writeFileSync(file, `${code}\nexport {};\n`);
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    skipLibCheck: true,
    types: [],
  };
  // As tsc does: skip the doc comments of declarations that cannot change a type (aws-cdk-lib's
  // declarations are mostly doc comments).
  const host = ts.createCompilerHost(options);
  host.jsDocParsingMode = ts.JSDocParsingMode.ParseForTypeErrors;
  const program = ts.createProgram({ rootNames: [file], options, host });
  const errors = ts.getPreEmitDiagnostics(program).filter((d) => d.file?.fileName === file.split(path.sep).join('/') || d.file?.fileName === file)
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, ' '));
  check(errors.length === 0, `cell ${cellName}: README block ${name} does not compile: ${errors.join('; ')}`);
  const tracked = code.replace(/new App\(\)/g, '__track(new App())');
  const js = ts.transpileModule(tracked, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
  const prelude = 'const __apps = []; const __track = (app) => (__apps.push(app), app);\n';
  fs.writeFileSync(path.join(dir, `${name}.js`), `${prelude}${js}\nif (__apps.length === 0) throw new Error('no App');\nfor (const app of __apps) app.synth();\n`);
  try {
    await run(process.execPath, [`${name}.js`], { cwd: dir, maxBuffer: 64 * 1024 * 1024, env: npmEnv() });
  } catch (e) {
    check(false, `cell ${cellName}: README block ${name} failed to run and synthesize: ${(e as Error).message.split('\n').slice(0, 3).join(' ')}`);
  }
}

async function main(): Promise<void> {
  const start = Date.now();
  const timings: Record<string, number> = {};
  for (const built of ['lib/index.js', '.jsii', 'assets/handler/aep.lambda/index.js']) {
    if (!fs.existsSync(path.join(root, built))) {
      throw new Error(`${built} is missing: run 'npx projen compile' first (the matrix packs what the jsii build produced)`);
    }
  }
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'consumer-matrix-'));
  try {
    let t = Date.now();
    // CI hands over the tarball it packed once for every check (after rosetta:extract, as a release).
    const given = process.env.CONSUMER_TARBALL;
    const [tarball, cdkLatest, nagVersions] = await Promise.all([
      given ? Promise.resolve(path.resolve(given))
        : npm(['pack', '--json', '--pack-destination', work], root).then((packed) => path.join(work, JSON.parse(packed)[0].filename)),
      npm(['view', 'aws-cdk-lib', 'version'], work),
      npm(['view', 'cdk-nag', 'versions', '--json'], work),
    ]);
    timings.pack = Date.now() - t;
    const unpacked = path.join(work, 'unpacked');
    fs.mkdirSync(unpacked);
    await run('tar', ['-xzf', tarball, '-C', unpacked]);
    const files = listFiles(path.join(unpacked, 'package'));
    checkTarball(path.join(unpacked, 'package'), files);
    timings.tarball = Date.now() - t;
    const unpackedKb = files.reduce((sum, f) => sum + fs.statSync(path.join(unpacked, 'package', f)).size, 0) / 1024;
    console.log(`consumer-matrix: ${path.basename(tarball)}${given ? ' (given)' : ''} ${(fs.statSync(tarball).size / 1024).toFixed(0)} KB packed, ${unpackedKb.toFixed(0)} KB unpacked, ${files.length} files`);

    const latestCdk = cdkLatest.trim();
    if (!/^2\.\d+\.\d+$/.test(latestCdk)) throw new Error(`the latest aws-cdk-lib is ${latestCdk}, not a 2.x release`);
    const nag = JSON.parse(nagVersions) as string[];
    const constructs = (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).peerDependencies ?? {}).constructs ?? '^10';
    const cells: Cell[] = [
      { name: 'A', awsCdkLib: MINIMUM_CDK, cdkNag: latestOfMajor(nag, 2) },
      { name: 'B', awsCdkLib: latestCdk, cdkNag: latestOfMajor(nag, 3), readmeBlocks: readmeJsBlocks() },
    ];

    const reports = await Promise.all(cells.map((cell) => runCell(work, cell, tarball, constructs, timings)));
    cells.forEach((cell, i) => {
      const r = reports[i];
      const label = `cell ${cell.name} (aws-cdk-lib ${r.awsCdkLib}, cdk-nag ${r.cdkNag})`;
      const readme = cell.readmeBlocks ? `, README cdk-nag 3 block(s) checked: ${cell.readmeBlocks.length}` : '';
      console.log(`consumer-matrix: ${label}: ${r.libraryFindings.length} nag findings from the library, canary ${r.canaryFindings}, token folder refs ${JSON.stringify(r.tokenRefs)}${readme}`);
      for (const f of r.libraryFindings) console.log(`  ${f.rule} ${f.path}`);
      check(r.awsCdkLib === cell.awsCdkLib, `${label}: expected aws-cdk-lib ${cell.awsCdkLib}`);
      check(r.cdkNag === cell.cdkNag, `${label}: expected cdk-nag ${cell.cdkNag}`);
      check(r.libraryFindings.length === 0, `${label}: ${r.libraryFindings.length} nag findings from the library`);
      check(!r.librarySynthError, `${label}: synth with the checks registered failed: ${r.librarySynthError}`);
      check(r.canaryFindings > 0, `${label}: the canary bucket produced no findings (the checks are not running)`);
      for (const [param, refs] of Object.entries(r.tokenRefs)) check(refs > 0, `${label}: the ${param} parameter is not referenced by the template`);
      // The assumed-role destination admits AEP only for the app's IMS org (API-NOTES §5.3).
      const lockedToOrg = JSON.stringify([[{ StringEquals: { 'sts:ExternalId': r.imsOrgId } }]]);
      check(JSON.stringify(r.adobeTrusts) === lockedToOrg,
        `${label}: the assumed-role destination's trust must carry exactly StringEquals sts:ExternalId = ${r.imsOrgId}, found ${JSON.stringify(r.adobeTrusts)}`);
    });
  } finally {
    // Two aws-cdk-lib trees take long to delete on a busy disk (40 s measured): not the matrix's
    // time, so a detached `rm` removes them while CI goes on. Kept for inspection on failure.
    if (failures.length === 0) spawn('rm', ['-rf', work], { detached: true, stdio: 'ignore' }).unref();
    else console.log(`consumer-matrix: consumer apps kept in ${work}`);
  }

  const parts = Object.entries(timings).map(([k, ms]) => `${k} ${(ms / 1000).toFixed(1)}s`).join(', ');
  console.log(`consumer-matrix: finished in ${((Date.now() - start) / 1000).toFixed(1)}s (${parts})`);
  if (failures.length > 0) {
    for (const f of failures) console.error(`consumer-matrix: FAIL ${f}`);
    process.exitCode = 1;
  }
}

main().catch((e) => {
  console.error(`consumer-matrix: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});
