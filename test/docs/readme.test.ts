import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ts from 'typescript';

/**
 * Every ```ts block in README.md must compile against the library's source, as a user would
 * write it (`import … from 'cdk-aep-s3'`). A renamed prop or factory breaks this test.
 */
const root = path.resolve(__dirname, '../..');
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
const snippets = [...readme.matchAll(/```(?:ts|typescript)\n([\s\S]*?)```/g)].map((m) => m[1]);

/** A snippet's source file in the program (never undefined: that would check the whole program). */
function sourceFile(program: ts.Program, file: string): ts.SourceFile {
  const sf = program.getSourceFile(file);
  if (!sf) throw new Error(`${file} is not in the program`);
  return sf;
}

describe('README TypeScript snippets', () => {
  test('the README has snippets to check', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(4);
  });

  test('every snippet compiles', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'readme-snippets-'));
    const files = snippets.map((code, i) => {
      const file = path.join(dir, `snippet-${i + 1}.ts`);
      fs.writeFileSync(file, code);
      return file;
    });
    const options: ts.CompilerOptions = {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.CommonJS,
      moduleResolution: ts.ModuleResolutionKind.Node10,
      esModuleInterop: true,
      skipLibCheck: true,
      types: ['node'],
      typeRoots: [path.join(root, 'node_modules/@types')],
      baseUrl: root,
      paths: {
        'cdk-aep-s3': [path.join(root, 'src/index.ts')],
        '*': [path.join(root, 'node_modules/*')],
      },
    };
    // Parsing aws-cdk-lib's declarations (~28 MB, mostly doc comments) is most of this test's time:
    // like tsc itself, skip the doc comments that cannot change a type error.
    const host = ts.createCompilerHost(options);
    host.jsDocParsingMode = ts.JSDocParsingMode.ParseForTypeErrors;
    const program = ts.createProgram({ rootNames: files, options, host });
    // Only the snippets' own diagnostics are asserted, so only they are checked: checking the whole
    // program (the library's source too) gave the same answer ~1.5 s later.
    const diagnostics = files.flatMap((file) => ts.getPreEmitDiagnostics(program, sourceFile(program, file)))
      .filter((d) => d.file && files.includes(path.resolve(d.file.fileName)));
    const messages = diagnostics.map((d) => {
      const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
      return `${path.basename(d.file!.fileName)}:${line + 1}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
    expect(messages).toEqual([]);
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
