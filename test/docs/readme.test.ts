import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readmeSnippets, snippetTypeErrors } from './readme-snippets';

/**
 * Every ```ts block in README.md must compile against the library's source, as a user would
 * write it (`import … from 'cdk-aep-s3'`): a renamed prop or factory breaks `npm test`. That
 * compile runs in `npm test`'s type check (test/jest/lint-and-typecheck.ts), which already holds
 * aws-cdk-lib's parsed declarations the snippets need (~10 s of CPU here on its own); this file
 * checks that the check sees the snippets and can fail, and runs them.
 */
const root = path.resolve(__dirname, '../..');
const snippets = readmeSnippets(root);

describe('README TypeScript snippets', () => {
  test('the README has snippets to check', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(4);
  });

  test('the snippet check names a type error by snippet and line, and passes a sound snippet', () => {
    expect(snippetTypeErrors(['const n: number = 1;\nexport { n };\n', '\nconst s: number = \'one\';\nexport { s };\n'], root))
      .toEqual(["snippet-2.ts:2: Type 'string' is not assignable to type 'number'."]);
  });
});

/**
 * And every snippet runs and synthesizes, as a user would paste it: construction-time validation
 * (bucket names, folder paths, PGP keys, …) and synthesis (cdk-nag aspects included) must pass.
 * `new App()` is swapped for a tracked App so the test can synthesize what the snippet built; the
 * PGP key file the encryption snippet names is provided (the demo's public key).
 */
describe('README TypeScript snippets run', () => {
  const snippetDir = path.join(__dirname, '.readme-snippets');
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'readme-run-'));
  const cwd = process.cwd();

  beforeAll(() => {
    fs.rmSync(snippetDir, { recursive: true, force: true });
    fs.mkdirSync(snippetDir, { recursive: true });
    fs.mkdirSync(path.join(workDir, 'keys'));
    fs.copyFileSync(path.join(root, 'examples/keys/aep-exports-demo.asc'), path.join(workDir, 'keys/aep-exports.asc'));
    process.chdir(workDir);
  });

  afterAll(() => {
    process.chdir(cwd);
    fs.rmSync(snippetDir, { recursive: true, force: true });
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  test.each(snippets.map((code, i) => [i + 1, code]))('snippet %i synthesizes', (n, code) => {
    const { App } = jest.requireActual('aws-cdk-lib');
    const apps: any[] = [];
    (globalThis as any).__readmeApp = () => {
      const app = new App();
      apps.push(app);
      return app;
    };
    const source = String(code)
      .replace(/from 'cdk-aep-s3'/g, `from '${path.relative(snippetDir, path.join(root, 'src')).split(path.sep).join('/')}'`)
      .replace(/new App\(\)/g, '(globalThis as any).__readmeApp()');
    const file = path.join(snippetDir, `snippet-${n}.ts`);
    fs.writeFileSync(file, `${source}\nexport {};\n`);
    // One module registry for every snippet (each is its own file, so each runs once): a fresh
    // registry per snippet loaded aws-cdk-lib and the library again for each.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require(file);
    for (const app of apps) app.synth();
    // Snippet 'Rotating the access key' only builds an auth object: no app is fine there.
    expect(apps.length).toBeGreaterThanOrEqual(String(code).includes('new App()') ? 1 : 0);
  });
});
