import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { apiDiff, BASELINE } from './api-compat';

// A jsii-diff run over the whole assembly loads aws-cdk-lib's (~4 s of CPU each). These tests judge
// the gate's mechanism (jsii-diff with --keys, the accepted-breaks file) on the baseline reduced to
// two of its types and their primitive properties: nothing outside the package is referenced, so no
// dependency is loaded (~0.5 s a run). The whole assembly is diffed by the gate itself in .ci/run.
jest.setTimeout(60_000);

let work: string;
let reduced: string;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'api-compat-test-'));
  reduced = path.join(work, 'reduced.jsii');
  fs.writeFileSync(reduced, JSON.stringify(reducedAssembly(JSON.parse(fs.readFileSync(BASELINE, 'utf8')))));
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const KEPT_TYPES = ['cdk-aep-s3.AepSandbox', 'cdk-aep-s3.AepS3SourceProps'];

/**
 * `assembly` with only {@link KEPT_TYPES}, their primitive properties, and no dependencies. The
 * sandbox's initializer takes the props struct (made up: the real one takes AepSandboxProps), so the
 * struct is an input, whose new required property jsii-diff must call a break.
 */
function reducedAssembly(assembly: Record<string, any>): Record<string, any> {
  const types = Object.fromEntries(KEPT_TYPES.map((fqn) => {
    const { initializer: _i, methods: _m, base: _b, interfaces: _f, ...type } = assembly.types[fqn];
    return [fqn, { ...type, properties: type.properties.filter((p: { type: { primitive?: string } }) => p.type.primitive !== undefined) }];
  }));
  types['cdk-aep-s3.AepSandbox'].initializer = { parameters: [{ name: 'props', type: { fqn: 'cdk-aep-s3.AepS3SourceProps' } }] };
  const { dependencies: _d, dependencyClosure: _c, ...rest } = assembly;
  return { ...rest, types };
}

/** A copy of the reduced baseline with `edit` applied (what a pull request's compile would produce). */
function edited(name: string, edit: (types: Record<string, any>) => void): string {
  const assembly = JSON.parse(fs.readFileSync(reduced, 'utf8'));
  edit(assembly.types);
  const file = path.join(work, `${name}.jsii`);
  fs.writeFileSync(file, JSON.stringify(assembly));
  return file;
}

test('the reduced baseline is compatible with itself, and keeps the properties the tests edit', () => {
  expect(apiDiff(reduced, reduced, path.join(work, 'none.txt'))).toEqual({ code: 0, output: expect.any(String) });
  const types = JSON.parse(fs.readFileSync(reduced, 'utf8')).types;
  expect(types['cdk-aep-s3.AepSandbox'].properties.map((p: { name: string }) => p.name)).toContain('sandboxName');
  expect(types['cdk-aep-s3.AepS3SourceProps'].properties.some((p: { optional?: boolean }) => p.optional)).toBe(true);
});

const withoutSandboxName = () => edited('break', (types) => {
  const sandbox = types['cdk-aep-s3.AepSandbox'];
  sandbox.properties = sandbox.properties.filter((p: { name: string }) => p.name !== 'sandboxName');
});

test('a removed public property fails, naming the element and the key that would accept it', () => {
  const res = apiDiff(reduced, withoutSandboxName(), path.join(work, 'none.txt'));
  expect(res.code).not.toBe(0);
  expect(res.output).toContain('PROP cdk-aep-s3.AepSandbox.sandboxName: has been removed [removed:cdk-aep-s3.AepSandbox.sandboxName]');
});

// One jsii-diff run for two properties: the assembly adds an optional prop AND removes one whose key the accepted file lists. Exit 0 holds
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
  const res = apiDiff(reduced, both, accepted);
  expect(res).toEqual({ code: 0, output: expect.any(String) });
  expect(res.output).not.toContain('addedLater');
});

test('a new required property of an input struct fails, naming it', () => {
  const required = edited('required', (types) => {
    const props = types['cdk-aep-s3.AepS3SourceProps'];
    const optional = props.properties.find((p: { optional?: boolean }) => p.optional);
    props.properties.push({ ...optional, name: 'addedRequired', optional: undefined });
  });
  const res = apiDiff(reduced, required, path.join(work, 'none.txt'));
  expect(res.code).not.toBe(0);
  expect(res.output).toMatch(/cdk-aep-s3\.AepS3SourceProps.*addedRequired/);
});
