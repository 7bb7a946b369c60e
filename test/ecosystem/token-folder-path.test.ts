import { App, CfnParameter, Lazy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AepS3Destination, AepS3Source, S3DestinationAuth, S3SourceAuth } from '../../src';
import { ACCOUNT, REGION, newSandbox } from '../destination/util';
import { cycleCheckedTemplate } from '../synth';

/**
 * A folder path from a `CfnParameter` (or any token) synthesizes in every destination and source
 * variant, and CloudFormation computes the same IAM scope the library computes for a literal: the
 * template with the parameter, evaluated for value v, equals the template built with literal v.
 */

type Variant = (stack: Stack, folderPath: string) => void;

const sandboxOf = (stack: Stack) => newSandbox(stack);
const ownedBucket = (stack: Stack) => new s3.Bucket(stack, 'Bucket', { bucketName: 'acme-aep-exchange', enforceSSL: true });

const DESTINATIONS: Record<string, Variant> = {
  'destination, access key': (stack, folderPath) => new AepS3Destination(stack, 'D', {
    sandbox: sandboxOf(stack), bucket: ownedBucket(stack), folderPath, auth: S3DestinationAuth.accessKey(),
  }),
  'destination, assumed role': (stack, folderPath) => new AepS3Destination(stack, 'D', {
    sandbox: sandboxOf(stack), bucket: ownedBucket(stack), folderPath, auth: S3DestinationAuth.assumedRole(),
  }),
  'destination, your own key (with its user)': (stack, folderPath) => new AepS3Destination(stack, 'D', {
    sandbox: sandboxOf(stack),
    bucket: ownedBucket(stack),
    folderPath,
    auth: S3DestinationAuth.accessKeyFromSecret(secretsmanager.Secret.fromSecretNameV2(stack, 'Key', 'aep/key'), {
      user: iam.User.fromUserName(stack, 'User', 'aep-exporter'),
    }),
  }),
};

const SOURCES: Record<string, Variant> = {
  'source, access key': (stack, folderPath) => new AepS3Source(stack, 'S', {
    sandbox: sandboxOf(stack), bucket: ownedBucket(stack), folderPath, auth: S3SourceAuth.accessKey(),
  }),
  'source, session tokens': (stack, folderPath) => new AepS3Source(stack, 'S', {
    sandbox: sandboxOf(stack), bucket: ownedBucket(stack), folderPath, auth: S3SourceAuth.accessKey({ sessionToken: {} }),
  }),
  'source, IAM role (AEP on AWS)': (stack, folderPath) => new AepS3Source(stack, 'S', {
    sandbox: sandboxOf(stack), bucket: ownedBucket(stack), folderPath, auth: S3SourceAuth.iamRole(),
  }),
};

/** The variant's template, checked for dependency cycles (in linear time: see cycleCheckedTemplate). */
function synth(variant: Variant, folderPath: (stack: Stack) => string): Template {
  const stack = new Stack(new App(), 'Tokens', { env: { account: ACCOUNT, region: REGION } });
  variant(stack, folderPath(stack));
  return cycleCheckedTemplate(stack);
}

/**
 * Evaluates what CloudFormation evaluates for the functions the scope expressions use (`Ref` of a
 * parameter, `Fn::Join`, `Fn::Split`, `Fn::Select`), with CloudFormation's own rules: Split of a
 * string without the delimiter is a one-element list, Select out of range is an error. Anything
 * else (resource refs, GetAtt) stays as it is, identically in both templates.
 */
function evaluate(value: unknown, parameters: Record<string, string>): any {
  const isString = (v: unknown): v is string => typeof v === 'string';
  const walk = (v: any): any => {
    if (Array.isArray(v)) return v.map(walk);
    if (v === null || typeof v !== 'object') return v;
    const keys = Object.keys(v);
    if (keys.length === 1) {
      const [fn] = keys;
      if (fn === 'Ref' && v.Ref in parameters) return parameters[v.Ref];
      if (fn === 'Fn::Join') {
        const [sep, parts] = v[fn];
        const values = walk(parts);
        if (Array.isArray(values) && values.every(isString)) return values.join(sep);
        if (sep !== '' || !Array.isArray(values)) return { [fn]: [sep, values] };
        // Same string, fragmented differently: merge adjacent literals so both templates compare.
        const merged: any[] = [];
        for (const part of values) {
          if (isString(part) && isString(merged[merged.length - 1])) merged[merged.length - 1] += part;
          else merged.push(part);
        }
        return { [fn]: [sep, merged] };
      }
      if (fn === 'Fn::Split') {
        const [sep, text] = v[fn];
        const source = walk(text);
        return isString(source) ? source.split(sep) : { [fn]: [sep, source] };
      }
      if (fn === 'Fn::Select') {
        const [index, list] = v[fn];
        const values = walk(list);
        if (!Array.isArray(values)) return { [fn]: [index, values] };
        if (index >= values.length) throw new Error(`Fn::Select index ${index} out of range`);
        return values[index];
      }
    }
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
  };
  return walk(value);
}

/** Resources whose text differs between the token and the literal template, after evaluation. */
function differences(tokenTemplate: Template, literalTemplate: Template, value: string): string[] {
  const tokenResources = evaluate(tokenTemplate.toJSON().Resources, { FolderPath: value });
  const literalResources = evaluate(literalTemplate.toJSON().Resources, {});
  const ids = new Set([...Object.keys(tokenResources), ...Object.keys(literalResources)]);
  const diff = [...ids].filter((id) => JSON.stringify(tokenResources[id]) !== JSON.stringify(literalResources[id]));
  return diff;
}

/** The object pattern after the bucket ARN in the `AepObjects` statement (`*` = whole bucket). */
function objectScope(resources: Record<string, any>): string {
  const statements = Object.values(resources)
    // Policy resources and inline `Policies` of users and roles alike.
    .flatMap((r: any) => [r.Properties?.PolicyDocument, ...(r.Properties?.Policies ?? []).map((p: any) => p.PolicyDocument)])
    .flatMap((doc: any) => doc?.Statement ?? [])
    .filter((st: any) => String(st.Sid).startsWith('AepObjects'));
  expect(statements).toHaveLength(1);
  const [, parts] = statements[0].Resource['Fn::Join'];
  expect(parts[0]).toEqual({ 'Fn::GetAtt': [expect.any(String), 'Arn'] });
  expect(parts).toHaveLength(2);
  return (parts[1] as string).replace(/^\//, '');
}

const parameter = (stack: Stack) => new CfnParameter(stack, 'FolderPath', { type: 'String' }).valueAsString;

/**
 * The parameter template of a variant does not depend on the value it is evaluated for: synthesize
 * it once per variant (each test still builds its own literal template).
 */
const parameterTemplates = new Map<Variant, Template>();
function parameterTemplate(variant: Variant): Template {
  if (!parameterTemplates.has(variant)) parameterTemplates.set(variant, synth(variant, parameter));
  return parameterTemplates.get(variant)!;
}

describe.each(Object.entries(DESTINATIONS))('%s', (_name, variant) => {
  test.each([
    'aep/audiences/%SEGMENT_NAME%',
    'aep/%SEGMENT_NAME%/%SEGMENT_ID%',
    'exports/daily',
    'exports/daily/',
    'x',
  ])('folderPath from a CfnParameter = %j: the evaluated template equals the literal one', (value) => {
    const tokenTemplate = parameterTemplate(variant);
    expect(tokenTemplate.toJSON().Parameters.FolderPath).toBeDefined();
    expect(differences(tokenTemplate, synth(variant, () => value), value)).toEqual([]);
  });
});

describe.each(Object.entries(SOURCES))('%s', (_name, variant) => {
  test.each(['exports/crm', 'exports/crm/', 'landing'])(
    'folderPath from a CfnParameter = %j: the evaluated template equals the literal one', (value) => {
      const tokenTemplate = parameterTemplate(variant);
      expect(differences(tokenTemplate, synth(variant, () => value), value)).toEqual([]);
    });

  test('a token resolving to "" grants the whole bucket, like a literal "", but lists only with a prefix', () => {
    const resources = evaluate(parameterTemplate(variant).toJSON().Resources, { FolderPath: '' });
    expect(objectScope(resources)).toBe('*');
    expect(JSON.stringify(resources)).toContain('"s3:prefix":["","","*"]');
  });
});

describe('other tokens', () => {
  test('a Lazy folder path synthesizes too (any token, not only parameters)', () => {
    const template = synth(DESTINATIONS['destination, access key'], () => Lazy.string({ produce: () => 'aep/lazy/%SEGMENT_ID%' }));
    // A Lazy resolves at synth: CloudFormation still computes the prefix from the literal it became.
    const literal = synth(DESTINATIONS['destination, access key'], () => 'aep/lazy/%SEGMENT_ID%');
    expect(differences(template, literal, '')).toEqual([]);
  });

  test.each([
    ['/aep/%SEGMENT_NAME%', '/aep/*'],
    ['aep//x', 'aep//x/*'],
    ['/', '/*'],
    ['aep%', 'aep/*'],
  ])('a value the synth-time rules would reject (%j) is scoped to exactly the keys it spells: %j', (value, expected) => {
    const resources = evaluate(parameterTemplate(DESTINATIONS['destination, access key']).toJSON().Resources, { FolderPath: value });
    expect(objectScope(resources)).toBe(expected);
  });
});
