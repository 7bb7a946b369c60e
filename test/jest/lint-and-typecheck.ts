/**
 * `npm test`'s type checks and lint over ONE parse of the code. `tsc --noEmit -p tsconfig.dev.json`,
 * eslint's typed rules (`parserOptions.project`) and the README snippets' check each built a program
 * reading the same files (aws-cdk-lib's ~800k lines of declarations above all). Here:
 * 1. tsconfig.dev.json's program (src, test, offline-world, examples, bench), judged as `tsc --noEmit`
 *    judges it (same diagnostics, same order of checks);
 * 2. README.md's ```ts snippets, compiled as a user's app would (test/docs/readme-snippets.ts), in a
 *    program served the declaration files step 1 already parsed;
 * 3. eslint, handed step 1's program through `parserOptions.programs` (its typed rules reuse the
 *    checker's work).
 *
 * No `--fix` here: with a given program the parser reads each file's syntax tree from the program,
 * not from the fixed text, so a fix pass would lint stale trees. Lint problems fail the command;
 * `npx projen eslint` fixes what is fixable. Exit code 0 when all three are clean, 1 otherwise.
 *
 * Run: `node -r ./test/jest/esbuild-register.js test/jest/lint-and-typecheck.ts` (test-and-lint.sh).
 */
import * as fs from 'fs';
import * as path from 'path';
import { loadESLint } from 'eslint';
import * as ts from 'typescript';
import { readmeSnippets, ROOT, snippetTypeErrors } from '../docs/readme-snippets';

/** The linted paths: projen's eslint task's (read from it, so a folder added in .projenrc.ts is linted here too). */
const LINTED: string[] = (() => {
  const tasks = JSON.parse(fs.readFileSync(path.join(ROOT, '.projen', 'tasks.json'), 'utf8'));
  const args: string[] = tasks.tasks.eslint.steps[0].execArgs;
  const paths = args.slice(args.indexOf('$@') + 1);
  // A task of another shape must not make this lint nothing (and pass).
  if (!args.includes('$@') || !paths.includes('src') || !paths.includes('test')) {
    throw new Error(`lint: cannot read the linted paths from projen's eslint task (${JSON.stringify(args)})`);
  }
  return paths;
})();

const formatHost: ts.FormatDiagnosticsHost = {
  getCanonicalFileName: (f) => f,
  getCurrentDirectory: () => ROOT,
  getNewLine: () => '\n',
};

/**
 * A compiler host whose parsed files are kept and served again to a later program that parses
 * them the same way (language version, module format, JSDoc mode: what a SourceFile depends on).
 * Dependencies' declarations skip the doc comments that cannot change a type, as `tsc` itself does
 * (aws-cdk-lib's declarations are mostly doc comments); our own files keep theirs. Parent pointers
 * are set: typescript-eslint's rules need them.
 */
function sharingHost(options: ts.CompilerOptions, parsed: Map<string, ts.SourceFile>): ts.CompilerHost {
  const host = ts.createCompilerHost(options, true);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersionOrOptions, onError, shouldCreate) => {
    const given = typeof languageVersionOrOptions === 'object' ? languageVersionOrOptions : { languageVersion: languageVersionOrOptions };
    const jsDocParsingMode = fileName.includes('/node_modules/') ? ts.JSDocParsingMode.ParseForTypeErrors : ts.JSDocParsingMode.ParseAll;
    const key = [fileName, given.languageVersion, given.impliedNodeFormat, jsDocParsingMode].join('\0');
    let file = parsed.get(key);
    if (!file || shouldCreate) {
      file = getSourceFile(fileName, { ...given, jsDocParsingMode }, onError, shouldCreate);
      if (file) parsed.set(key, file);
    }
    return file;
  };
  return host;
}

/** tsconfig.dev.json's program, as typescript-eslint's `createProgram` builds it. */
function devProgram(parsed: Map<string, ts.SourceFile>): ts.Program {
  const config = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, 'tsconfig.dev.json'), { noEmit: true }, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n')); },
  });
  if (!config) throw new Error('tsconfig.dev.json could not be read');
  if (config.errors.length) throw new Error(ts.formatDiagnostics(config.errors, formatHost));
  const host = sharingHost(config.options, parsed);
  return ts.createProgram({ rootNames: config.fileNames, options: config.options, host, projectReferences: config.projectReferences });
}

/** What `tsc --noEmit` reports for a program (typescript's emitFilesAndReportErrors, without emit). */
function typeErrors(program: ts.Program): readonly ts.Diagnostic[] {
  const options = program.getCompilerOptions();
  const all: ts.Diagnostic[] = [...program.getConfigFileParsingDiagnostics()];
  const configCount = all.length;
  all.push(...program.getSyntacticDiagnostics());
  if (all.length === configCount) {
    all.push(...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics());
    if (all.length === configCount) all.push(...program.getSemanticDiagnostics());
    if (options.noEmit && (options.declaration || options.composite) && all.length === configCount) {
      all.push(...program.getDeclarationDiagnostics());
    }
  }
  return ts.sortAndDeduplicateDiagnostics(all);
}

const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

async function main(): Promise<boolean> {
  let started = Date.now();
  const parsed = new Map<string, ts.SourceFile>();
  const program = devProgram(parsed);
  const diagnostics = typeErrors(program);
  process.stdout.write(ts.formatDiagnostics(diagnostics, formatHost));
  console.log(`----- tsc --noEmit -p tsconfig.dev.json: ${diagnostics.length} error(s) (${seconds(started)})`);

  started = Date.now();
  const snippets = readmeSnippets();
  const snippetErrors = snippets.length < 4 ? ['README.md: fewer than 4 ```ts snippets found (the pattern or the README changed)'] : [];
  snippetErrors.push(...snippetTypeErrors(snippets, ROOT, sharingHost({}, parsed)));
  for (const line of snippetErrors) console.log(line);
  console.log(`----- README.md snippets: ${snippets.length} compiled, ${snippetErrors.length} error(s) (${seconds(started)})`);

  started = Date.now();
  const ESLint = await loadESLint({ useFlatConfig: false });
  const eslint = new ESLint({
    cwd: ROOT,
    extensions: ['.ts', '.tsx'],
    errorOnUnmatchedPattern: false,
    overrideConfig: { parserOptions: { programs: [program] } },
  } as any); // eslintrc-mode options (ESLINT_USE_FLAT_CONFIG=false, as projen's eslint task), untyped in eslint 9
  const results = await eslint.lintFiles(LINTED);
  const formatter = await eslint.loadFormatter('stylish');
  process.stdout.write(await formatter.format(results));
  const errors = results.reduce((n, r) => n + r.errorCount, 0);
  const warnings = results.reduce((n, r) => n + r.warningCount, 0);
  console.log(`----- eslint: ${errors} error(s), ${warnings} warning(s) in ${results.length} files (${seconds(started)})`
    + (errors > 0 ? '; `npx projen eslint` fixes what is fixable' : ''));
  return diagnostics.length === 0 && snippetErrors.length === 0 && errors === 0;
}

main().then((clean) => process.exit(clean ? 0 : 1), (err) => {
  console.error(err);
  process.exit(1);
});
