import { awscdk, javascript } from 'projen';

/*
 * Version choices (see also README "Compatibility").
 *
 * aws-cdk-lib 2.180.0 is the peer minimum and the exact version we build and test with:
 *  - it has everything we use: Runtime NODEJS_22_X, Provider `logGroup` + `totalTimeout`,
 *    CustomResource `serviceTimeout`, Function `logGroup`;
 *  - cdk-nag 2.x (peer aws-cdk-lib ^2.176) runs its AwsSolutions checks against it. cdk-nag 3
 *    needs aws-cdk-lib >= 2.258 and its validation plugin silently reports nothing below that,
 *    so pinning cdk-nag 3 would turn our nag tests into tests that cannot fail;
 *  - @aws-cdk/integ-runner only works offline with aws-cdk-lib <= 2.257, which keeps that door
 *    open for integration snapshots;
 *  - a low minimum lets existing infra repos adopt the library without a CDK upgrade.
 *
 * Lambda runtime policy: pinned, not "newest available". Node.js 22 (nodejs22.x) is set
 * explicitly rather than Runtime.NODEJS_LATEST or the newest runtime the consumer's aws-cdk-lib
 * knows, because
 *  - the bundle is built for it (esbuild --target=node22); a newer runtime picked at the
 *    consumer's synth would run this release's code on a runtime it never targeted (Lambda's
 *    newer Node.js runtimes also change behaviour, e.g. nodejs24.x drops callback handlers);
 *  - the synthesized template must not change under a user because they upgraded aws-cdk-lib
 *    (determinism across aws-cdk-lib versions, not only per version);
 *  - it is available in every commercial and GovCloud region.
 * A library release moves the pin forward (runtime, esbuild target and tests together). The cost:
 * cdk-nag's AwsSolutions-L1 ("not the latest runtime") fires once the consumer's aws-cdk-lib knows
 * a newer Node.js (2.276 does); the library acknowledges L1 on its own functions with this reason
 * (src/private/nag.ts PINNED_RUNTIME_REASON), for cdk-nag 2 and 3 alike.
 *
 * cdk-nag: the library's suppressions reach both majors (src/private/nag.ts): `cdk_nag` metadata
 * for cdk-nag 2, and `Validations.of(resource).acknowledge()` for cdk-nag 3 when the consumer's
 * aws-cdk-lib has it (>= 2.257; looked up at runtime since we build against 2.180).
 * test/ecosystem/consumer-matrix.ts (run by .ci/run) proves 0 findings with 2.180 + cdk-nag 2 and
 * with the latest aws-cdk-lib 2.x + cdk-nag 3.
 *
 * The bundle is built by
 * projen's `*.lambda.ts` auto-discovery at library build time; `@aws-sdk/*` stays external (the
 * runtime ships SDK v3) and axios/axios-retry are inlined.
 */
const CDK_VERSION = '2.180.0';

const project = new awscdk.AwsCdkConstructLibrary({
  author: 'cdk-aep-s3 contributors',
  authorAddress: 'cdk-aep-s3@users.noreply.github.com',
  cdkVersion: CDK_VERSION,
  constructsVersion: '10.5.1',
  jsiiVersion: '~5.9.0',
  typescriptVersion: '~5.9.0',
  name: 'cdk-aep-s3',
  packageName: 'cdk-aep-s3',
  description:
    'AWS CDK constructs that provision the AWS side of Adobe Experience Platform (AEP) Amazon S3 sources and destinations and register the matching AEP connections through the Flow Service API.',
  keywords: ['aws-cdk', 'cdk', 'adobe', 'aep', 'experience-platform', 's3', 'flow-service'],
  license: 'Apache-2.0',
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  repositoryUrl: 'https://github.com/cdk-aep-s3/cdk-aep-s3.git',
  tsconfigDevFile: 'tsconfig.dev.json',
  github: false,
  release: false,
  depsUpgrade: false,
  pullRequestTemplate: false,
  minNodeVersion: '20.0.0',
  // `npx cdk-aep-s3 doctor`: the preflight command, a self-contained esbuild bundle (bundle:cli).
  bin: { 'cdk-aep-s3': 'assets/cli/index.js' },

  // No inline source maps: they embedded every .ts source in its .js and roughly doubled the
  // package for a benefit (stack traces into synth-time code) few consumers need.
  tsconfig: { compilerOptions: { inlineSourceMap: false, inlineSources: false } },

  lambdaOptions: {
    runtime: awscdk.LambdaRuntime.NODEJS_22_X,
    bundlingOptions: {
      // The Lambda runtime provides AWS SDK v3; everything else (axios, axios-retry) is inlined.
      externals: ['@aws-sdk/*'],
      sourcemap: false,
    },
    awsSdkConnectionReuse: false,
  },

  devDeps: [
    // Inlined into the handler bundle by esbuild (devDependencies: consumers never install them).
    'axios@^1.7',
    'axios-retry@^4.5',
    '@aws-sdk/client-sts@^3',
    '@aws-sdk/client-secrets-manager@^3',
    // The reachability probe (S3 ListObjectsV2 with the new key) and the doctor command's
    // orphan check (CloudFormation DescribeStacks); external in the handler bundle, inlined in the doctor's.
    '@aws-sdk/client-s3@^3',
    '@aws-sdk/client-cloudformation@^3',
    // Tests: OpenAPI validation of every request the stand-in receives.
    '@readme/openapi-parser@^4',
    'ajv@^8',
    'ajv-formats@^3',
    'yaml@^2',
    // Tests: the independent judge of every AEP request and response (contract-check.ts).
    // openapi-backend: maintained (5.x, regular releases), framework-free, matches a request to
    // its operation and validates path, query, headers and body, and responses per status, with
    // ajv; Prism pulls in faker, fp-ts and a telemetry package, express-openapi-validator needs express.
    'openapi-backend@^5.23.0',
    // Tests: generated bad inputs, IAM policy evaluation (AGPL, dev only), nag rules, PGP keys.
    'fast-check@^4',
    '@cloud-copilot/iam-simulate',
    'cdk-nag@^2.38.2',
    'aws-sdk-client-mock@^4',
    'openpgp@^6',
    // Local AWS stand-in verifies SigV4 signatures with the SDK's own signer.
    '@smithy/signature-v4',
    '@aws-crypto/sha256-js',
  ],
  peerDeps: [],

  // jsii targets: AEP's data engineers mostly write Python. Names follow each ecosystem's rules
  // (PyPI dist/module, Maven group under the GitHub org's io.github namespace, a .NET namespace,
  // a Go module in a -go sibling repository). `.ci/run` generates code for all of them
  // (jsii-pacmak --code-only) and translates the README's examples (jsii-rosetta --strict);
  // publishing is not configured (release: false).
  publishToPypi: { distName: 'cdk-aep-s3', module: 'cdk_aep_s3' },
  publishToMaven: { javaPackage: 'io.github.cdkaeps3', mavenGroupId: 'io.github.cdk-aep-s3', mavenArtifactId: 'cdk-aep-s3' },
  publishToNuget: { dotNetNamespace: 'CdkAepS3', packageId: 'CdkAepS3' },
  publishToGo: { moduleName: 'github.com/cdk-aep-s3/cdk-aep-s3-go', packageName: 'cdkaeps3' },

  jestOptions: {
    // CI must fail on a snapshot mismatch or an empty run, never rewrite or ignore it.
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    passWithNoTests: false,
    jestConfig: {
      // Coverage is a report, not a check (no threshold), so `npm test` does not pay for it: on a
      // fresh CI machine (cold transform cache) babel's instrumenting cost ~25% more CPU on a quarter
      // of the suite (73 s vs 59 s user+sys). `npm run test:coverage` reports it. babel, not v8:
      // v8's precise coverage counts blocks in every script the suites load (aws-cdk-lib above all).
      collectCoverage: false,
      coverageProvider: 'babel',
      testTimeout: 60_000,
      // Three workers on the 2-core CI machine: many suites spend part of their time waiting (the
      // stand-ins' fault and settle timers, AEP's deferred deletes, the handler's backoff), so one
      // worker per core leaves the CPU idle; more workers each pay the JIT warm-up and module cache
      // of their own. Measured here: 2 workers 181 s, 3 149 s, 4 134 s (before this wave's CPU cuts);
      // after them, paired: 3 workers 116.6 / 130.2 s (CPU 197 / 222 s), 4 workers 118.4 / 128.3 s
      // (CPU 217 / 239 s): the same wall, ~8% less CPU, which the type check and eslint beside jest
      // get. Again with those sharing one program, in `npm test`: 3 workers 122.9 / 114.0 s, 4 workers
      // 118.0 / 111.0 s with 10-13 s more CPU. With the code cache made after a module's first run
      // (test/jest/code-caching-runtime.js), jest alone: 3 workers 106.0 / 105.6 s, 4 96.0 / 91.5 /
      // 104.5 s, 5 85.3 / 88.1 s; but in `npm test`, beside the type check and eslint: 3 workers
      // 110.7 / 98.4 s, 5 109.8 / 112.4 s. Then (wave 9) on a faster 2-core machine, where the suite
      // costs ~85 s of CPU and its files ~200 s of wall (mostly the stand-ins' timers), with the type
      // check and eslint beside jest at a lower priority (test/jest/test-and-lint.sh), jest's time in
      // `npm test`: 3 workers 65.0 / 71.1 / 68.4 s, 4 58.1 / 59.7 / 57.2 / 62.3 s, 5 58.1 / 55.4 /
      // 56.0 / 54.4 / 53.7 / 54.2 / 55.1 s, 6 56.1 / 52.7 / 50.1 s (but the whole `npm test` 55.8-63.4
      // s against 5's 56.0-56.6: the checks wait longer). Five overlap the waits. On the slower machine
      // above, where the CPU is the limit, five measured 109.8 / 112.4 s against three's 110.7 / 98.4 s
      // (before the checks were niced): not re-measured there. A number, not a percentage:
      // jest reads a percentage above 100 as that many workers.
      maxWorkers: 5,
      // jest asks each worker to end once every file has run and force-kills it after this long,
      // printing "A worker process has failed to exit gracefully ... likely caused by tests leaking".
      // Measured (jest-worker instrumented): the workers reach their 'exit' event within 1 ms of being
      // asked, with only their pipes open, and are gone 618-715 ms later (Node freeing a heap that
      // held every test file's context); jest's default of 500 ms killed one every full run. Leaks
      // still show: a handle kept open outlives 2 s.
      workerGracefulExitTimeout: 2_000,
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      // The lifecycle tests load bundles from synthesized cloud assemblies under .demo/ (deleted
      // afterwards): coverage is about src/, not about those copies.
      coveragePathIgnorePatterns: ['/node_modules/', '/\\.demo/', '/assets/', '/test/', '/offline-world/'],
    },
  },
  eslintOptions: {
    // Lint tests, examples and bench with the dev tsconfig (the default project only covers src/).
    tsconfigPath: './tsconfig.dev.json',
    projectService: false,
    dirs: ['src'],
    devdirs: ['test', 'offline-world', 'examples', 'bench', 'scripts', '.projenrc.ts', 'projenrc'],
    ignorePatterns: ['*.js', '*.d.ts', 'node_modules/', '*.generated.ts', 'coverage', 'assets/', 'cdk.out/'],
  },
  gitignore: ['cdk.out/', '.demo/', '/assets/', 'test/docs/.readme-snippets/', '.jsii.tabl.json'],
  // api-baseline/: the committed public API of the last release, for jsii-diff in CI (not shipped).
  // .jsii.tabl.json (the rosetta translations) ships: Construct Hub and jsii-pacmak read it beside .jsii.
  npmIgnoreOptions: { ignorePatterns: ['examples/', 'bench/', 'offline-world/', '.ci/', 'api-baseline/', 'rosetta/', 'cdk.out/', '.demo/', 'test-reports/'] },
});

// Every jest run ends with its ten slowest test files (also test-reports/slowest-suites.txt), so
// a suite that grows slow shows in the run that made it slow (issue 19: jest <= 60 s).
project.jest?.addReporter(new javascript.JestReporter('<rootDir>/test/jest/slowest-suites.js'));

// TypeScript in jest goes through esbuild (test/jest/esbuild-transform.js), not ts-jest: both only
// transpile (tsconfig.dev.json has isolatedModules), but a fresh CI machine has no transform cache
// and TypeScript's emitter cost ~40 s of CPU per suite run there (issue 19: jest <= 60 s).
if (project.jest) {
  (project.jest.config as { transform?: unknown }).transform = {
    '^.+\\.[t]sx?$': new javascript.Transform('<rootDir>/test/jest/esbuild-transform.js'),
  };
  project.deps.removeDependency('ts-jest');
  // jest parses every module again for every test file; this runtime keeps V8's code cache of each
  // module per worker (measured in-band over 12 files: 2.7 s of compiling -> 1.2 s).
  (project.jest.config as { runtime?: string }).runtime = '<rootDir>/test/jest/code-caching-runtime.js';
}

// The package ships what a consumer loads and nothing else. The Lambda code runs from the esbuild
// bundle under assets/; of lib/handler only the generated AepFunction construct (which points at
// that bundle) is loaded at synth time (lib/private/provider.js). The rest of lib/handler would
// `require` axios and @aws-sdk, which are not dependencies. Later patterns win in .npmignore.
project.addPackageIgnore('/lib/handler/*');
project.addPackageIgnore('!/lib/handler/aep-function.js');
project.addPackageIgnore('!/lib/handler/aep-function.d.ts');
// The CLI runs from its bundle (assets/cli/index.js); its tsc output would require dev dependencies.
project.addPackageIgnore('/lib/cli/');
// The runtime layers shared by the handler and the CLIs run only inside those bundles.
project.addPackageIgnore('/lib/aep/');
project.addPackageIgnore('/lib/aws/');
project.addPackageIgnore('/lib/plumbing/');
project.addPackageIgnore('/lib/decisions/');
// Maintainers' scripts (bundling, fixtures, docs generation) are not part of the package.
project.addPackageIgnore('/scripts/');

// jsii-rosetta compiles the README's examples against the package's dependency closure; the
// cdk-nag example also needs cdk-nag, which is not a dependency of the library.
project.package.addField('jsiiRosetta', { exampleDependencies: { 'cdk-nag': '^2.38.2' } });

// The handler, the CLIs and the runtime layers they share (AEP transport, AWS calls, plumbing) are
// bundled (esbuild inlines axios etc.), so their devDependency imports are fine.
for (const bundled of ['handler', 'cli', 'aep', 'aws', 'plumbing']) {
  project.eslint?.allowDevDeps(`src/${bundled}/**`);
}

project.tsconfigDev.addInclude('.projenrc.ts');
project.tsconfigDev.addInclude('examples/**/*.ts');
project.tsconfigDev.addInclude('bench/**/*.ts');
project.tsconfigDev.addInclude('offline-world/**/*.ts');
// Build output and generated trees are not sources: the dev program's '**/*.ts' otherwise took in
// lib/'s ~120 declaration files once compiled (as in .ci/run), judged again by every type check.
for (const generated of ['lib', 'dist', 'assets', 'cdk.out', '.demo', 'coverage']) {
  project.tsconfigDev.addExclude(generated);
}

// The lock file is committed without `resolved` URLs (the machines that write it set npm's
// omit-lockfile-registry-resolved). Without the same setting in the repository, a contributor's
// `npm install` added a `resolved` line to every package and left package-lock.json modified.
project.npmrc.addConfig('omit-lockfile-registry-resolved', 'true');

// jsii prints a Node 20 end-of-life banner on every run; Node 20 is what these machines have.
project.tasks.addEnvironment('JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION', '20');
// The AWS SDK (v3) warns once per process that its releases after January 2027 need Node.js 22;
// a jest run has a process per worker and test file, so the same notice printed ~20 times. The
// README says what to run (Node.js 22 or 24); these machines run 20. The SDK's documented switch:
project.tasks.addEnvironment('AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED', 'true');

// `npm run demo`: synthesize examples/ and replay the CloudFormation lifecycle offline. TypeScript
// runs through esbuild as in jest (transpile only): `npm test`'s type check covers examples/, and
// ts-node's own type check made the demo ~4x the CPU (27 s against 10 s with the bundle step).
project.addTask('demo', {
  description: 'Synthesize the examples app and run its AEP connection lifecycle against the local AEP stand-in',
  steps: [
    { spawn: 'bundle' },
    { exec: 'node -r ./test/jest/esbuild-register.js examples/demo.ts' },
  ],
});

// `npm run stand-in`: the local AEP + AWS stand-ins as a process, for exploring by hand.
// Through the same esbuild register as the demo (test/stand-in-cli.test.ts spawns it the same way).
project.addTask('stand-in', {
  description: 'Run the local AEP (IMS + Flow Service) and AWS (Secrets Manager + STS) stand-ins until Ctrl-C',
  exec: 'node -r ./test/jest/esbuild-register.js offline-world/stand-in/cli.ts',
});

// `npm run fetch-specs`: Adobe's OpenAPI specs for a clone without ../shared/contracts, pinned and
// checksummed, cached outside git (offline-world/specs.ts). Never copied into the repository.
project.addTask('fetch-specs', {
  description: "Download Adobe's OpenAPI specs (pinned revision, sha256-checked) into ~/.cache/cdk-aep-s3 for the offline stand-in",
  exec: 'ts-node --transpile-only --project tsconfig.dev.json offline-world/fetch-specs.ts',
});

// `npm run test:coverage`: the suite with src/ coverage (text summary + lcov in coverage/).
project.addTask('test:coverage', {
  description: 'Run the test suite and report coverage of src/',
  steps: [
    { spawn: 'bundle' },
    { exec: 'jest --ci --coverage', receiveArgs: true },
  ],
});

// `npm run bench`: ratios only, measured in one run (never timed assertions in jest).
project.addTask('bench', {
  description: 'Measure synth cost, template size, bundle size and requests per lifecycle event',
  steps: [
    { spawn: 'bundle' },
    { exec: 'ts-node --project tsconfig.dev.json bench/bench.ts' },
  ],
});

// The handler and CLI bundles: scripts/bundle.ts holds their esbuild options (projen's lambda
// bundling options expose neither --minify nor --alias: axios's form-data and debug are shimmed;
// sizes: `npm run bench`) and builds both in one process. One projen task and process per bundle
// cost ~5.9 s of wall for ~1.2 s of esbuild work, and CI bundles three times a run (issue 19). The
// bin's mode 755 is set there too (test/ecosystem/bin-executable.test.ts checks it).
const BUNDLE_SCRIPT = 'node -r ./test/jest/esbuild-register.js scripts/bundle.ts';
project.tasks.tryFind('bundle:handler/aep.lambda')?.reset(`${BUNDLE_SCRIPT} handler`);
project.tasks.tryFind('bundle:handler/aep.lambda:watch')?.reset(`${BUNDLE_SCRIPT} handler --watch`);
project.addTask('bundle:cli', {
  description: 'Create the self-contained bundle of the cdk-aep-s3 command (doctor)',
  exec: `${BUNDLE_SCRIPT} cli`,
});
project.tasks.tryFind('bundle')!.reset(BUNDLE_SCRIPT);

// The README's and docstrings' TypeScript examples, translated to Python, Java, C# and Go by
// jsii-rosetta (--strict: every example must compile). The tablet lands at its default location,
// .jsii.tabl.json beside .jsii, which is where jsii-pacmak (every package:* task) and Construct Hub
// look for translations; without it they print the TypeScript inside ```python fences. It ships in
// the npm tarball. The check that the generated Python README is Python: .ci/run, python-docs.ts.
//
// rosetta/cache.tabl.json (committed): translations rosetta reuses for a snippet whose text and
// whose referenced types' fingerprint are unchanged (as aws-cdk's own build does), so CI compiles and
// translates only what a change touched (fresh clone: 21-23 s → see .ci/run's timing). Any other
// snippet is compiled and translated as before, strict; --trim-cache drops what no snippet uses.
const rosettaExtract = project.addTask('rosetta:extract', {
  description: 'Translate the README and API doc examples into every jsii language (.jsii.tabl.json, read by jsii-pacmak)',
  exec: 'jsii-rosetta extract --strict --cache rosetta/cache.tabl.json --trim-cache --compress-cache',
});
for (const task of ['package:js', 'package:java', 'package:python', 'package:dotnet', 'package:go']) {
  project.tasks.tryFind(task)?.prependSpawn(rosettaExtract);
}

// Tests synthesize stacks that reference the bundled handler asset, so bundle first. Then jest, and
// beside it `tsc --noEmit`'s type check, the README snippets' compile and eslint over one parse
// (test/jest/test-and-lint.sh, lint-and-typecheck.ts): their CPU fills jest's waits, and the type
// check is the only one the tests themselves get (the transform only transpiles).
project.testTask.reset();
project.testTask.spawn(project.tasks.tryFind('bundle')!);
project.testTask.exec('bash test/jest/test-and-lint.sh', { receiveArgs: true });

project.synth();
