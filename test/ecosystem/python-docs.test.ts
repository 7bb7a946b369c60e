import { pythonBlocks, pythonProblems } from './python-docs';

/** The CI check of the Python docs (python-docs.ts) tells a translated README from an untranslated one. */
const UNTRANSLATED = [
  '# cdk-aep-s3', '', '```python', "import { App, Stack } from 'aws-cdk-lib';", "import * as s3 from 'aws-cdk-lib/aws-s3';", '',
  'const app = new App();', "new s3.Bucket(stack, 'Exports', { bucketName: 'acme' });", '```', '',
].join('\n');

const TRANSLATED = [
  '# cdk-aep-s3', '', '```python', '# Example automatically generated from non-compiling source. May contain errors.',
  'from aws_cdk import App, Stack', 'import aws_cdk.aws_s3 as s3', '', 'app = App()', 's3.Bucket(stack, "Exports", bucket_name="acme")', '```', '',
].join('\n');

test('TypeScript inside a python fence is reported, line by line', () => {
  const problems = pythonProblems(UNTRANSLATED, 'README.md');
  expect(problems).toEqual(expect.arrayContaining([
    expect.stringContaining("('import { … } from')"),
    expect.stringContaining("('import * as')"),
    expect.stringContaining("('const '/'let ')"),
    expect.stringContaining("('new Class(')"),
    'README.md: no python block imports or names aws_cdk',
  ]));
});

test('Python passes', () => {
  expect(pythonBlocks(TRANSLATED)).toHaveLength(1);
  expect(pythonProblems(TRANSLATED, 'README.md')).toEqual([]);
});
