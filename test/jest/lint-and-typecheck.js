/**
 * `npm test`'s type check and lint over ONE TypeScript program. `tsc --noEmit -p tsconfig.dev.json`
 * and eslint's typed rules (`parserOptions.project`) each built the same program of src, test,
 * offline-world, examples and bench (plus aws-cdk-lib's ~800k lines of declarations): here it is
 * built once, judged as `tsc --noEmit` judges it (same diagnostics, same order of checks), then
 * handed to eslint through `parserOptions.programs`, whose typed rules reuse the checker's work.
 *
 * No `--fix` here: with a given program the parser reads each file's syntax tree from the program,
 * not from the fixed text, so a fix pass would lint stale trees. Lint problems fail the command;
 * `npx projen eslint` fixes what is fixable.
 *
 * Exit code: 0 when both are clean, 1 otherwise. Paths: the same as projen's eslint task.
 */
const path = require('node:path');
const ts = require('typescript');
const { loadESLint } = require('eslint');

const root = path.resolve(__dirname, '..', '..');
const LINTED = ['src', 'test', 'offline-world', 'examples', 'bench', '.projenrc.ts', 'projenrc'];

/** What `tsc --noEmit` reports for a program (typescript's emitFilesAndReportErrors, without emit). */
function typeErrors(program) {
  const options = program.getCompilerOptions();
  const all = [...program.getConfigFileParsingDiagnostics()];
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

/**
 * tsconfig.dev.json's program, as typescript-eslint's `createProgram` builds it (parent pointers set,
 * which its typed rules need; noEmit and the unused-variable flags the tsconfig already has), except
 * that the declarations of dependencies skip the doc comments that cannot change a type, as `tsc`
 * itself does (aws-cdk-lib's ~28 MB of declarations are mostly doc comments); our own files keep
 * theirs.
 */
function devProgram() {
  const parsed = ts.getParsedCommandLineOfConfigFile(path.join(root, 'tsconfig.dev.json'), { noEmit: true }, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n')); },
  });
  if (parsed.errors.length) throw new Error(ts.formatDiagnostics(parsed.errors, formatHost));
  const host = ts.createCompilerHost(parsed.options, true);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersionOrOptions, ...rest) => {
    const options = typeof languageVersionOrOptions === 'object' ? languageVersionOrOptions : { languageVersion: languageVersionOrOptions };
    const jsDocParsingMode = fileName.includes('/node_modules/') ? ts.JSDocParsingMode.ParseForTypeErrors : ts.JSDocParsingMode.ParseAll;
    return getSourceFile(fileName, { ...options, jsDocParsingMode }, ...rest);
  };
  return ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options, host, projectReferences: parsed.projectReferences });
}

const formatHost = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => '\n' };

async function main() {
  const started = Date.now();
  const program = devProgram();
  const diagnostics = typeErrors(program);
  const typed = Date.now();
  process.stdout.write(ts.formatDiagnostics(diagnostics, formatHost));
  console.log(`----- tsc --noEmit -p tsconfig.dev.json: ${diagnostics.length} error(s) (${((typed - started) / 1000).toFixed(1)} s)`);

  const ESLint = await loadESLint({ useFlatConfig: false });
  const eslint = new ESLint({
    cwd: root,
    extensions: ['.ts', '.tsx'],
    errorOnUnmatchedPattern: false,
    overrideConfig: { parserOptions: { programs: [program] } },
  });
  const results = await eslint.lintFiles(LINTED);
  const formatter = await eslint.loadFormatter('stylish');
  process.stdout.write(await formatter.format(results));
  const errors = results.reduce((n, r) => n + r.errorCount, 0);
  const warnings = results.reduce((n, r) => n + r.warningCount, 0);
  console.log(`----- eslint: ${errors} error(s), ${warnings} warning(s) in ${results.length} files (${((Date.now() - typed) / 1000).toFixed(1)} s)`
    + (errors > 0 ? '; `npx projen eslint` fixes what is fixable' : ''));
  return diagnostics.length === 0 && errors === 0;
}

main().then((clean) => process.exit(clean ? 0 : 1), (err) => {
  console.error(err);
  process.exit(1);
});
