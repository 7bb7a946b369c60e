import { execFileSync } from 'child_process';
import { readFileSync } from 'fs';
import * as path from 'path';
import { measureColdRequire } from '../../offline-world/cold-start';

// No timing is asserted (the machine's load would decide the outcome); what is asserted is what
// the cold require loads, which decides the timing everywhere.
test('requiring the bundled handler loads no AWS SDK client: STS and Secrets Manager load when first needed', () => {
  const result = measureColdRequire(path.join(__dirname, '../../assets/handler/aep.lambda/index.js'), { runs: 1 });
  expect(result.sdkPackagesAtRequire).toEqual([]);
  expect(result.bundleMs).toBeGreaterThan(0);
  expect(result.baselineMs).toBeGreaterThan(0);
});

test('requiring the bundled handler wakes neither Node\'s fetch (undici, web streams) nor the IAM signer (@smithy/core)', () => {
  // In a fresh process, as a Lambda container: which of Node's lazily loaded internals the require
  // loaded, and whether the signer's code ran (it defines SignatureV4 only when evaluated).
  const bundle = path.join(__dirname, '../../assets/handler/aep.lambda/index.js');
  const probe = [
    `require(${JSON.stringify(bundle)});`,
    'const loaded = process.moduleLoadList.filter((m) => /undici|webstreams\\/readablestream/.test(m));',
    'console.log(JSON.stringify({ loaded, request: typeof Request, formData: typeof FormData, stream: typeof ReadableStream }));',
  ].join('\n');
  const out = execFileSync(process.execPath, ['-e', probe], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
  // The globals themselves are Node's own again after the load (the IAM query calls fetch).
  expect(JSON.parse(out)).toEqual({ loaded: [], request: 'function', formData: 'function', stream: 'function' });
  const source = readFileSync(bundle, 'utf8');
  // Still bundled (the key watch and the cleanup sign IAM calls), but not evaluated at require:
  // esbuild leaves a require inside a function lazy.
  expect(source).toContain('SignatureV4');
});
