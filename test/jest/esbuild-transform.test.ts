/**
 * The jest transform (esbuild-transform.js). jest stores what it gets under the transformer's cache
 * key after instrumenting it for coverage and uses that key as given, so a key that ignored
 * instrumenting served uninstrumented code to `npm run test:coverage` after a plain run: a green
 * report of 0/0 lines.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const transform = require('./esbuild-transform') as {
  getCacheKey(source: string, file: string, options: { instrument?: boolean; configString?: string }): string;
  process(source: string, file: string): { code: string; map: string };
};

const SOURCE = 'export const answer: number = 42;\n';
const FILE = '/repo/src/answer.ts';

test('the cache key differs with instrumenting and with the config, and only then', () => {
  const key = (options: { instrument?: boolean; configString?: string }) => transform.getCacheKey(SOURCE, FILE, options);
  expect(key({ instrument: false, configString: 'a' })).toBe(key({ instrument: false, configString: 'a' }));
  expect(key({ instrument: true, configString: 'a' })).not.toBe(key({ instrument: false, configString: 'a' }));
  expect(key({ instrument: false, configString: 'b' })).not.toBe(key({ instrument: false, configString: 'a' }));
  expect(transform.getCacheKey(`${SOURCE}// changed\n`, FILE, { configString: 'a' })).not.toBe(key({ configString: 'a' }));
});

test('TypeScript becomes CommonJS with a source map naming the .ts file', () => {
  const { code, map } = transform.process(SOURCE, FILE);
  expect(code).toContain('answer');
  expect(code).not.toContain(': number');
  expect(code).toMatch(/exports|module\.exports/);
  expect(JSON.parse(map).sources).toEqual([FILE]);
});
