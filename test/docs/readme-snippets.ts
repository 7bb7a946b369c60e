import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ts from 'typescript';

/** The repository root. */
export const ROOT = path.resolve(__dirname, '../..');

/** Every ```ts block of README.md, in order. */
export function readmeSnippets(root = ROOT): string[] {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  return [...readme.matchAll(/```(?:ts|typescript)\n([\s\S]*?)```/g)].map((m) => m[1]);
}

/**
 * A user's CDK app as `cdk init app --language typescript` sets it up (strict, Node16 modules),
 * importing `cdk-aep-s3` (here: the library's source) and aws-cdk-lib from this repository. Node16
 * as the dev program has it, so the declarations both read parse the same way and can be shared.
 */
function snippetOptions(root: string): ts.CompilerOptions {
  return {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.Node16,
    moduleResolution: ts.ModuleResolutionKind.Node16,
    esModuleInterop: true,
    skipLibCheck: true,
    types: ['node'],
    typeRoots: [path.join(root, 'node_modules/@types')],
    paths: {
      'cdk-aep-s3': [path.join(root, 'src/index.ts')],
      '*': [path.join(root, 'node_modules/*')],
    },
  };
}

/**
 * The README snippets' type errors, as `snippet-<n>.ts:<line>: <message>` (none: they compile as a
 * user would write them). Only the snippets are checked (the library's own files are the dev
 * program's). `host` may serve source files already parsed (the dev program's, in
 * test/jest/lint-and-typecheck.ts): aws-cdk-lib's declarations are most of the cost.
 */
export function snippetTypeErrors(snippets: string[], root = ROOT, host?: ts.CompilerHost): string[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'readme-snippets-'));
  try {
    const files = snippets.map((code, i) => {
      const file = path.join(dir, `snippet-${i + 1}.ts`);
      fs.writeFileSync(file, code);
      return file;
    });
    const options = snippetOptions(root);
    const compilerHost = host ?? ts.createCompilerHost(options);
    if (!host) compilerHost.jsDocParsingMode = ts.JSDocParsingMode.ParseForTypeErrors;
    const program = ts.createProgram({ rootNames: files, options, host: compilerHost });
    const ownFiles = files.flatMap((file) => {
      const sf = program.getSourceFile(file);
      // Never undefined: that would check the whole program.
      if (!sf) throw new Error(`${file} is not in the program`);
      return ts.getPreEmitDiagnostics(program, sf);
    }).filter((d) => d.file && files.includes(path.resolve(d.file.fileName)));
    const diagnostics = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics(), ...ownFiles];
    return diagnostics.map((d) => {
      const where = d.file ? `${path.basename(d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}` : 'options';
      return `${where}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
