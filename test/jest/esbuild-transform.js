/**
 * jest's TypeScript transform: esbuild's transformSync, one file at a time, as ts-jest did with
 * tsconfig.dev.json's `isolatedModules` (transpile only, no type check: `npm test` runs `tsc --noEmit
 * -p tsconfig.dev.json` beside jest, test/jest/test-and-lint.sh). Why not ts-jest: a CI machine starts with an empty
 * transform cache, and TypeScript's emitter spent ~40 s of CPU of a suite run transpiling src/,
 * offline-world/ and test/ (issue 19's budget); esbuild does the same files in well under 2 s.
 *
 * Same semantics as tsc's emit for this code base: CommonJS, the tsconfig's target (class fields
 * follow its useDefineForClassFields default), experimentalDecorators, esModuleInterop-style
 * default imports; a source map so stack traces and coverage point at the .ts lines.
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');

/** The compiler options esbuild reads from a tsconfig, from tsconfig.dev.json and what it extends. */
function compilerOptions(file) {
  const text = fs.readFileSync(file, 'utf8').replace(/^\s*\/\/.*$/gm, '');
  const config = JSON.parse(text);
  const inherited = config.extends ? compilerOptions(path.resolve(path.dirname(file), config.extends)) : {};
  return { ...inherited, ...config.compilerOptions };
}

const options = compilerOptions(path.join(__dirname, '..', '..', 'tsconfig.dev.json'));
const tsconfigRaw = {
  compilerOptions: {
    target: options.target,
    useDefineForClassFields: options.useDefineForClassFields,
    experimentalDecorators: options.experimentalDecorators,
    esModuleInterop: options.esModuleInterop,
  },
};
const KEY = JSON.stringify({ transformer: 1, esbuild: esbuild.version, tsconfigRaw });

module.exports = {
  // jest keeps what it stores under this key after instrumenting it for coverage, and uses the key as
  // given: whether this run instruments, and the config (coverage patterns), must be part of it.
  getCacheKey(sourceText, sourcePath, options) {
    return crypto.createHash('sha256').update(KEY).update('\0').update(sourcePath).update('\0').update(sourceText)
      .update('\0').update(options && options.instrument ? 'instrument' : '')
      .update('\0').update((options && options.configString) || '')
      .digest('hex');
  },
  process(sourceText, sourcePath) {
    const result = esbuild.transformSync(sourceText, {
      loader: sourcePath.endsWith('x') ? 'tsx' : 'ts',
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      sourcefile: sourcePath,
      sourcemap: 'external',
      sourcesContent: false,
      tsconfigRaw,
    });
    return { code: result.code, map: result.map };
  },
};
