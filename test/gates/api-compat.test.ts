import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { apiDiff, BASELINE } from './api-compat';

// Each jsii-diff run loads aws-cdk-lib's assembly: a few seconds, more on a loaded machine.
jest.setTimeout(180_000);

let work: string;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'api-compat-test-'));
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** A copy of the baseline assembly with `edit` applied (what a pull request's compile would produce). */
function edited(name: string, edit: (types: Record<string, any>) => void): string {
  const assembly = JSON.parse(fs.readFileSync(BASELINE, 'utf8'));
  edit(assembly.types);
  const file = path.join(work, `${name}.jsii`);
  fs.writeFileSync(file, JSON.stringify(assembly));
  return file;
}

const withoutSandboxName = () => edited('break', (types) => {
  const sandbox = types['cdk-aep-s3.AepSandbox'];
  sandbox.properties = sandbox.properties.filter((p: { name: string }) => p.name !== 'sandboxName');
});

test('a removed public property fails, naming the element and the key that would accept it', () => {
  const res = apiDiff(BASELINE, withoutSandboxName(), path.join(work, 'none.txt'));
  expect(res.code).not.toBe(0);
  expect(res.output).toContain('PROP cdk-aep-s3.AepSandbox.sandboxName: has been removed [removed:cdk-aep-s3.AepSandbox.sandboxName]');
});

// One jsii-diff run for two properties (each run loads aws-cdk-lib's assembly: ~4 s of CPU): the
// assembly adds an optional prop AND removes one whose key the accepted file lists. Exit 0 holds
// only if the addition is judged compatible and the listed break is accepted; either failing
// makes it non-zero.
test('an added optional prop is compatible, and a break whose key is listed in the accepted-breaks file passes', () => {
  const accepted = path.join(work, 'accepted.txt');
  fs.writeFileSync(accepted, 'removed:cdk-aep-s3.AepSandbox.sandboxName\n');
  const both = edited('added-and-accepted', (types) => {
    const props = types['cdk-aep-s3.AepS3SourceProps'];
    props.properties.push({ ...props.properties.find((p: { optional?: boolean }) => p.optional), name: 'addedLater' });
    const sandbox = types['cdk-aep-s3.AepSandbox'];
    sandbox.properties = sandbox.properties.filter((p: { name: string }) => p.name !== 'sandboxName');
  });
  const res = apiDiff(BASELINE, both, accepted);
  expect(res).toEqual({ code: 0, output: expect.any(String) });
  expect(res.output).not.toContain('addedLater');
});
