import { App, Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { CfnTemplate } from './destructive';
import { type FocusedInputs, focusedSourceStack, templateOf } from './stacks';
import { jsonPerField } from '../../src/private/json-per-field';

/**
 * The leaves (scalars, addressed by their path) that differ between two templates, by resource.
 * What a reviewer reads in `cdk diff` is one line per differing leaf; a leaf that is a long
 * escaped JSON string holding many fields reads as one unreadable line.
 */
function changedLeaves(a: CfnTemplate, b: CfnTemplate): Map<string, Array<{ path: string; before: unknown; after: unknown }>> {
  const out = new Map<string, Array<{ path: string; before: unknown; after: unknown }>>();
  const walk = (x: unknown, y: unknown, resource: string, path: string) => {
    if (x && y && typeof x === 'object' && typeof y === 'object' && Array.isArray(x) === Array.isArray(y)) {
      const keys = new Set([...Object.keys(x as object), ...Object.keys(y as object)]);
      for (const k of keys) walk((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k], resource, `${path}/${k}`);
    } else if (JSON.stringify(x) !== JSON.stringify(y)) {
      out.set(resource, [...(out.get(resource) ?? []), { path, before: x, after: y }]);
    }
  };
  const ids = new Set([...Object.keys(a.Resources ?? {}), ...Object.keys(b.Resources ?? {})]);
  for (const id of ids) walk(a.Resources?.[id], b.Resources?.[id], id, '');
  return out;
}

const synth = (inputs: FocusedInputs) => templateOf(focusedSourceStack(new App(), { sourceAuth: 'sessionToken', ...inputs }));

/**
 * Every resource the change touches differs in exactly one leaf, and that leaf holds the one field
 * (at most one `"key":` of JSON text in it) with the old value swapped for the new.
 */
function expectOneLinePerResource(inputs: [FocusedInputs, FocusedInputs], values: [string, string]): string[] {
  const diff = changedLeaves(synth(inputs[0]), synth(inputs[1]));
  expect(diff.size).toBeGreaterThan(0);
  const report: string[] = [];
  for (const [resource, leaves] of diff) {
    report.push(`${resource}: ${leaves.map((l) => l.path).join(', ')}`);
    expect({ resource, leaves: leaves.length }).toEqual({ resource, leaves: 1 });
    const [{ before, after }] = leaves;
    expect(typeof before).toBe('string');
    expect(String(before).split(values[0]).join(values[1])).toBe(after);
    const fields = (String(after).match(/":/g) ?? []).length;
    expect({ resource, severalFieldsInOneLine: fields > 1 ? after : false }).toEqual({ resource, severalFieldsInOneLine: false });
  }
  return report;
}

test('a sandbox change reads as one line per affected resource (custom resources, the refresh schedule and its function)', () => {
  const touched = expectOneLinePerResource([{ sandboxName: 'prod' }, { sandboxName: 'staging' }], ['prod', 'staging']);
  // The refresh schedule and its function are among them (they name the sandbox too).
  expect(touched.join('\n')).toMatch(/SessionTokenRefreshSchedule\w*: \/Properties\/Targets\/0\/Input\//);
  expect(touched.join('\n')).toMatch(/SessionTokenRefreshFunction\w*: \/Properties\/Environment\/Variables\//);
});

test('a session lifetime change reads as one line in the connection and one in the refresh schedule', () => {
  const touched = expectOneLinePerResource([{ sessionHours: 12 }, { sessionHours: 10 }], ['43200', '36000']);
  expect(touched.some((t) => /SessionTokenRefreshSchedule/.test(t))).toBe(true);
});

test('the per-field JSON is the same text as toJsonString once CloudFormation joins it (the refresh event does not change)', () => {
  const stack = new Stack(new App(), 'S', { env: { account: '111122223333', region: 'eu-west-1' } });
  const secret = secretsmanager.Secret.fromSecretNameV2(stack, 'Key', 'aep/key');
  const bucket = new s3.Bucket(stack, 'B');
  const value = {
    ContractVersion: '2',
    AepCredentialsSecretArn: secret.secretArn,
    ConnectionId: bucket.bucketName,
    Name: 'quote " and backslash \\ and ünïcode',
    AuthSecretFields: { s3AccessKey: 'accessKeyId', s3SecretKey: 'secretAccessKey' },
    Last: bucket.bucketArn,
  };
  // Intrinsics stand in as their JSON: equal text around equal intrinsics is equal text after deployment.
  const joined = (v: unknown): string => {
    const r = stack.resolve(v);
    if (typeof r === 'string') return r;
    return (r['Fn::Join'][1] as unknown[]).map((p) => (typeof p === 'string' ? p : `<${JSON.stringify(p)}>`)).join('');
  };
  const perField = stack.resolve(jsonPerField(value));
  expect(joined(jsonPerField(value))).toBe(joined(stack.toJsonString(value)));
  // One element per field at least: the six fields never share an element.
  const elements = (perField['Fn::Join'][1] as unknown[]).filter((p): p is string => typeof p === 'string');
  for (const key of Object.keys(value)) expect(elements.filter((e) => e.includes(`"${key}":`))).toHaveLength(1);
  for (const e of elements) expect((e.match(/":/g) ?? []).length).toBeLessThanOrEqual(Object.keys(value.AuthSecretFields).length + 1);
  expect(JSON.parse(joined(jsonPerField({ a: 'b', n: { c: 'd' } })))).toEqual({ a: 'b', n: { c: 'd' } });
});
