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
const { createProgram } = require('@typescript-eslint/parser');
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

async function main() {
  const started = Date.now();
  // The parser's own helper: the program it builds is one its typed rules accept (parent pointers set).
  const program = createProgram('tsconfig.dev.json', root);
  const diagnostics = typeErrors(program);
  const typed = Date.now();
  const host = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => '\n' };
  process.stdout.write(ts.formatDiagnostics(diagnostics, host));
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
