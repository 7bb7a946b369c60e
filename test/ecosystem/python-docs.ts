/**
 * The Python package's docs are Python: the README and docstrings jsii-pacmak generates show each
 * TypeScript example as rosetta translated it, never the TypeScript itself inside a ```python fence
 * (which is what pacmak writes when it finds no translation tablet).
 *
 * `.ci/run` runs this on jsii-pacmak's code-only output, generated the way projen's package tasks
 * generate it (the tablet at its default location beside .jsii, no --rosetta-tablet flag):
 *   npx ts-node --transpile-only --project tsconfig.dev.json test/ecosystem/python-docs.ts <pacmak outdir>
 * test/ecosystem/python-docs.test.ts checks the checker on both kinds of block.
 */
import * as fs from 'fs';
import * as path from 'path';

/** Lines that are TypeScript and never Python. */
const TYPESCRIPT = [
  { name: "'const '/'let '", re: /^\s*(const|let) [\w{[]/m },
  { name: "'new Class('", re: /\bnew [A-Z]\w*(\.\w+)*\(/ },
  { name: "'import { … } from'", re: /^\s*import \{[^}]*\} from /m },
  { name: "'import * as'", re: /^\s*import \* as /m },
  { name: 'an arrow function', re: /\) => / },
  { name: 'a statement ending in ;', re: /\);\s*$/m },
];

/** The ```python blocks of a markdown text (a docstring holds markdown too). */
export function pythonBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```python\n([\s\S]*?)```/g)].map((m) => m[1]);
}

/** What is wrong with the Python blocks of one document (empty when they are Python). */
export function pythonProblems(markdown: string, where: string): string[] {
  const blocks = pythonBlocks(markdown);
  const problems: string[] = [];
  blocks.forEach((block, i) => {
    for (const { name, re } of TYPESCRIPT) {
      const hit = re.exec(block);
      if (hit) problems.push(`${where}: python block ${i + 1} contains TypeScript (${name}): ${hit[0].trim()}`);
    }
  });
  const all = blocks.join('\n');
  if (blocks.length > 0 && !/\baws_cdk\b/.test(all)) problems.push(`${where}: no python block imports or names aws_cdk`);
  if (blocks.length > 0 && !/\b[a-z]+(_[a-z0-9]+)+=/.test(all)) problems.push(`${where}: no python block passes a snake_case keyword argument`);
  return problems;
}

function main(outdir: string): void {
  const python = path.join(outdir, 'python');
  const readme = path.join(python, 'README.md');
  const init = path.join(python, 'src', 'cdk_aep_s3', '__init__.py');
  const problems: string[] = [];
  for (const file of [readme, init]) {
    if (!fs.existsSync(file)) {
      problems.push(`${file} was not generated`);
      continue;
    }
    const text = fs.readFileSync(file, 'utf8');
    const count = pythonBlocks(text).length;
    if (count === 0) problems.push(`${path.relative(outdir, file)}: no python blocks (the README's examples are missing)`);
    problems.push(...pythonProblems(text, path.relative(outdir, file)));
    console.log(`python-docs: ${path.relative(outdir, file)}: ${count} python blocks`);
  }
  if (problems.length > 0) {
    for (const p of problems.slice(0, 20)) console.error(`python-docs: FAIL ${p}`);
    console.error('python-docs: the Python docs show TypeScript: is .jsii.tabl.json (npx projen rosetta:extract) beside .jsii?');
    process.exitCode = 1;
  } else {
    console.log('python-docs: the Python README and docstrings show Python');
  }
}

if (require.main === module) {
  if (!process.argv[2]) throw new Error('usage: python-docs.ts <jsii-pacmak outdir>');
  main(process.argv[2]);
}
