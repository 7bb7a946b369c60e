/**
 * The runtime jest uses (test/jest/code-caching-runtime.js) shares the texts of installed packages'
 * files between the test files of a worker, and nothing else.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { sharingInstalledSources } = require('./code-caching-runtime') as {
  sharingInstalledSources: (local: Map<string, string>) => Map<string, string>;
};

const INSTALLED = '/work/repo/node_modules/aws-cdk-lib/core/lib/stack.js';
const OWN = '/work/repo/src/index.ts';

test('an installed file read for one test file is seen by the next; the repository\'s own files are not', () => {
  const first = sharingInstalledSources(new Map());
  first.set(INSTALLED, 'installed text');
  first.set(OWN, 'own text');
  const next = sharingInstalledSources(new Map());
  expect(next.get(INSTALLED)).toBe('installed text');
  expect(next.has(OWN)).toBe(false);
  expect(first.get(OWN)).toBe('own text');
});

test('jest clearing a test file\'s cache at teardown clears only that file\'s own entries', () => {
  const local = new Map<string, string>();
  const layer = sharingInstalledSources(local);
  layer.set(`${INSTALLED}.other`, 'kept');
  layer.set(OWN, 'gone');
  layer.clear();
  expect(local.size).toBe(0);
  expect(sharingInstalledSources(new Map()).get(`${INSTALLED}.other`)).toBe('kept');
});

test('a module compiled by the runtime reports its own line and column numbers', () => {
  // The file is compiled inside a function wrapper whose opening is on a line of its own.
  const where = () => new Error('here').stack!.split('\n')[1];
  expect(where()).toMatch(/code-caching-runtime\.test\.ts:35:23\)?$/);
});
