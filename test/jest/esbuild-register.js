/**
 * `node -r ./test/jest/esbuild-register.js file.ts`: runs TypeScript in a child process the way the
 * jest transform does (esbuild, transpile only), for tests that must start a process of their own
 * (a time zone, a CLI's stdout). ts-node/register/transpile-only loaded TypeScript and transpiled
 * every file again in every child: ~2-3 s of CPU per child against well under one.
 */
const fs = require('node:fs');
const transform = require('./esbuild-transform');

require.extensions['.ts'] = (module, filename) => {
  const { code } = transform.process(fs.readFileSync(filename, 'utf8'), filename);
  module._compile(code, filename);
};
