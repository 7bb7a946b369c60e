/**
 * The key watch as synthesized: schedule, pinned target, alarms and their SNS action, synth-time
 * validation, and the watch role's permissions evaluated by an IAM policy simulator (this user's
 * keys only; the library's key secret is the only one it writes).
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { keyWatchDestination as destination } from './key-watch-fixture';
import { ACCOUNT, REGION, newSandbox, newStack } from './util';
import { AccessKeyLifecycleOptions, AepS3Source, S3DestinationAuth, S3SourceAuth } from '../../src';
import { HandlerEnvironment, KeyWatchKeys, KeyWatchMetric } from '../../src/private/contract';

// Its cdk-nag check is in test/nag.test.ts (one file loads cdk-nag for every check).

function watchFunction(template: Template): [string, any] {
  const fns = Object.entries<any>(template.findResources('AWS::Lambda::Function')).filter(([, f]) => f.Properties.Handler === 'index.keyWatchHandler');
  expect(fns).toHaveLength(1);
  return fns[0];
}

/** The pinned JSON with each deploy-time value shown as `@<logicalId>` (Ref) or `@<logicalId>.<attr>` (GetAtt). */
function pinnedTarget(stack: Stack, fn: any): Record<string, any> {
  const value = stack.resolve(fn.Properties.Environment.Variables[HandlerEnvironment.KEY_WATCH_TARGET]);
  if (typeof value === 'string') return JSON.parse(value);
  const [sep, parts] = value['Fn::Join'];
  const text = parts.map((p: any) => (typeof p === 'string' ? p : 'Ref' in p ? `@${p.Ref}` : `@${p['Fn::GetAtt'].join('.')}`)).join(sep);
  return JSON.parse(text);
}

describe('template', () => {
  test('no keyLifecycle: no watch at all (nothing changes for existing stacks)', () => {
    const stack = newStack();
    destination(stack);
    const template = Template.fromStack(stack);
    expect(Object.values<any>(template.findResources('AWS::Lambda::Function')).map((f) => f.Properties.Handler)).not.toContain('index.keyWatchHandler');
    expect(template.findResources('AWS::CloudWatch::Alarm')).toEqual({});
  });

  test('rotation and age alarm: a 12-hour schedule, the target pinned in the environment, two alarms to the topic', () => {
    const stack = newStack();
    const topic = new sns.Topic(stack, 'Pager');
    const dest = destination(stack, { maxKeyAge: Duration.days(90), rotateEvery: Duration.days(30), alarmTopic: topic });
    const template = Template.fromStack(stack);
    const [fnId, fn] = watchFunction(template);
    expect(fn.Properties.Timeout).toBe(300);
    const rules = Object.values<any>(template.findResources('AWS::Events::Rule'));
    expect(rules).toHaveLength(1);
    expect(rules[0].Properties.ScheduleExpression).toBe('rate(12 hours)');
    expect(JSON.stringify(rules[0].Properties.Targets)).toContain(fnId);

    const target = pinnedTarget(stack, fn);
    expect(Object.keys(target).sort()).toEqual(expect.arrayContaining([
      KeyWatchKeys.USER_NAME, KeyWatchKeys.CONNECTION_ID, KeyWatchKeys.AUTH_SECRET_ARN,
      KeyWatchKeys.CONNECTION_SPEC_ID, KeyWatchKeys.ROTATE_AFTER_SECONDS,
    ]));
    expect(target[KeyWatchKeys.ROTATE_AFTER_SECONDS]).toBe(String(30 * 86_400));
    expect(JSON.stringify(target)).toContain('ExportsAuthAccessKeyUser');
    expect(fn.Properties.Environment.Variables[HandlerEnvironment.ALLOWED_ENDPOINTS]).toBeDefined();

    const alarms = Object.values<any>(template.findResources('AWS::CloudWatch::Alarm'));
    const age = alarms.find((a) => a.Properties.MetricName === KeyWatchMetric.AGE)!;
    expect(age.Properties).toMatchObject({
      Namespace: KeyWatchMetric.NAMESPACE,
      Statistic: 'Maximum',
      Period: 86_400,
      EvaluationPeriods: 1,
      Threshold: 76,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'ignore',
    });
    const failures = alarms.find((a) => a.Properties.MetricName === 'Errors')!;
    expect(failures.Properties).toMatchObject({ Statistic: 'Sum', Threshold: 1, TreatMissingData: 'notBreaching' });
    for (const a of [age, failures]) expect(JSON.stringify(a.Properties.AlarmActions)).toContain('Pager');
    expect(dest.keyAgeAlarm).toBeDefined();
    expect(dest.keyRotationAlarm).toBeDefined();
    // The secret never enters the template: only its ARN.
    expect(JSON.stringify(template.toJSON())).not.toMatch(/SecretAccessKey"\s*:\s*"[^{]/);
  });

  test('age only: measures, no rotation grants, no AEP endpoints, no rotation alarm', () => {
    const stack = newStack();
    const dest = destination(stack, { maxKeyAge: Duration.days(90), warnBefore: Duration.days(10) });
    const template = Template.fromStack(stack);
    const [, fn] = watchFunction(template);
    const target = pinnedTarget(stack, fn);
    expect(Object.keys(target).sort()).toEqual([KeyWatchKeys.NAME, KeyWatchKeys.USER_NAME].sort());
    expect(fn.Properties.Environment.Variables[HandlerEnvironment.ALLOWED_ENDPOINTS]).toBeUndefined();
    const alarms = Object.values<any>(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.map((a) => a.Properties.Threshold)).toEqual([80]);
    expect(dest.keyRotationAlarm).toBeUndefined();
  });

  test('a session-token source pins the session duration too (AEP then gets a triple made from the new key)', () => {
    const stack = newStack();
    new AepS3Source(stack, 'Ingest', {
      sandbox: newSandbox(stack),
      bucket: s3.Bucket.fromBucketName(stack, 'Bucket', 'acme-aep-inbound'),
      auth: S3SourceAuth.accessKey({ sessionToken: { duration: Duration.hours(12) }, keyLifecycle: { rotateEvery: Duration.days(30) } }),
    });
    const [, fn] = watchFunction(Template.fromStack(stack));
    expect(pinnedTarget(stack, fn)[KeyWatchKeys.SESSION_TOKEN_DURATION]).toBe(String(12 * 3600));
    expect(pinnedTarget(stack, fn)[KeyWatchKeys.CONNECTION_SPEC_ID]).toBe('ecadc60c-7455-4d87-84dc-2a0e293d997b');
  });

  test('deterministic: the same app synthesizes byte-identical templates', () => {
    const synth = () => {
      const stack = newStack();
      destination(stack, { maxKeyAge: Duration.days(90), rotateEvery: Duration.days(30) });
      return JSON.stringify(Template.fromStack(stack).toJSON());
    };
    expect(synth()).toBe(synth());
  });
});

describe('validation (synth-time, naming property, value and rule)', () => {
  test.each<[string, AccessKeyLifecycleOptions, RegExp]>([
    ['rotation slower than the alarm allows', { maxKeyAge: Duration.days(90), rotateEvery: Duration.days(80) }, /auth\.keyLifecycle\.rotateEvery.*80 days.*at most maxKeyAge - warnBefore - 1 day \(75 days\)/],
    ['warning as long as the policy', { maxKeyAge: Duration.days(10), warnBefore: Duration.days(10) }, /auth\.keyLifecycle\.warnBefore.*10 days.*shorter than maxKeyAge/],
    ['not whole days', { maxKeyAge: Duration.hours(36) }, /auth\.keyLifecycle\.maxKeyAge.*whole number of days/],
    ['warnBefore alone', { warnBefore: Duration.days(3), rotateEvery: Duration.days(30) }, /auth\.keyLifecycle\.warnBefore.*only applies with maxKeyAge/],
    ['nothing asked', {}, /auth\.keyLifecycle.*asks for nothing/],
  ])('%s', (_name, options, message) => {
    expect(() => S3DestinationAuth.accessKey({ keyLifecycle: options })).toThrow(message);
    expect(() => S3SourceAuth.accessKey({ keyLifecycle: options })).toThrow(message);
  });
});

describe('IAM simulation of the watch role', () => {
  const USER_ARN = `arn:aws:iam::${ACCOUNT}:user/Dest-ExportsAuthAccessKeyUser-ABC123`;
  const KEY_SECRET_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:ExportsKey-AbCdEf`;
  const CREDENTIALS_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:aep/credentials-AbCdEf`;

  /** The identity policies of the watch role, with every intrinsic made concrete. */
  function watchPolicies(keyLifecycle: AccessKeyLifecycleOptions): unknown[] {
    const stack = newStack();
    destination(stack, keyLifecycle);
    const template = Template.fromStack(stack);
    const [, fn] = watchFunction(template);
    const roleId = fn.Properties.Role['Fn::GetAtt'][0];
    const resources = template.toJSON().Resources;
    const resolve = (v: any): any => {
      if (Array.isArray(v)) return v.map(resolve);
      if (!v || typeof v !== 'object') return v;
      if ('Ref' in v) {
        if (v.Ref === 'AWS::Partition') return 'aws';
        if (v.Ref === 'AWS::Region') return REGION;
        if (v.Ref === 'AWS::AccountId') return ACCOUNT;
        if (resources[v.Ref]?.Type === 'AWS::SecretsManager::Secret') return KEY_SECRET_ARN;
        return `unresolved-${v.Ref}`;
      }
      if ('Fn::GetAtt' in v) {
        const [id, attr] = v['Fn::GetAtt'];
        if (resources[id]?.Type === 'AWS::IAM::User' && attr === 'Arn') return USER_ARN;
        return `arn:aws:unresolved:${REGION}:${ACCOUNT}:${id}`;
      }
      if ('Fn::Join' in v) {
        const joined = resolve(v['Fn::Join'][1]).join(v['Fn::Join'][0]);
        // The credential secret is imported by name: its partial ARN plus Secrets Manager's suffix.
        return joined.replace(/secret:aep\/credentials-\?\?\?\?\?\?$/, 'secret:aep/credentials-??????');
      }
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolve(x)]));
    };
    const role = resources[roleId];
    const attached = Object.values<any>(resources).filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(`"${roleId}"`));
    return [...(role.Properties.Policies ?? []).map((p: any) => p.PolicyDocument), ...attached.map((p) => p.Properties.PolicyDocument)].map(resolve);
  }

  async function decide(policies: unknown[], action: string, resource: string): Promise<string> {
    const result = await runSimulation({
      request: { principal: `arn:aws:sts::${ACCOUNT}:assumed-role/Dest-KeyWatchRole-XYZ/fn`, action, resource: { resource, accountId: ACCOUNT }, contextVariables: {} },
      identityPolicies: policies.map((policy, i) => ({ name: `p${i}`, policy })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    }, { simulationMode: 'Strict' });
    if (result.resultType === 'error') throw new Error(JSON.stringify(result.errors));
    return result.overallResult;
  }

  test('with rotation: list, create and delete keys of its user only; write only the key secret; read the two secrets', async () => {
    const p = watchPolicies({ rotateEvery: Duration.days(30) });
    for (const action of ['iam:ListAccessKeys', 'iam:CreateAccessKey', 'iam:DeleteAccessKey']) {
      expect(await decide(p, action, USER_ARN)).toBe('Allowed');
      expect(await decide(p, action, `arn:aws:iam::${ACCOUNT}:user/admin`)).not.toBe('Allowed');
    }
    expect(await decide(p, 'secretsmanager:PutSecretValue', KEY_SECRET_ARN)).toBe('Allowed');
    expect(await decide(p, 'secretsmanager:PutSecretValue', CREDENTIALS_ARN)).not.toBe('Allowed');
    expect(await decide(p, 'secretsmanager:GetSecretValue', KEY_SECRET_ARN)).toBe('Allowed');
    expect(await decide(p, 'secretsmanager:GetSecretValue', CREDENTIALS_ARN)).toBe('Allowed');
    expect(await decide(p, 'secretsmanager:GetSecretValue', `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:other-AbCdEf`)).not.toBe('Allowed');
    for (const action of ['iam:UpdateAccessKey', 'iam:PutUserPolicy', 'iam:AttachUserPolicy', 'iam:CreateLoginProfile']) {
      expect(await decide(p, action, USER_ARN)).not.toBe('Allowed');
    }
  });

  test('age only: may list its user\'s keys and nothing else of IAM or Secrets Manager', async () => {
    const p = watchPolicies({ maxKeyAge: Duration.days(90) });
    expect(await decide(p, 'iam:ListAccessKeys', USER_ARN)).toBe('Allowed');
    for (const action of ['iam:CreateAccessKey', 'iam:DeleteAccessKey']) expect(await decide(p, action, USER_ARN)).not.toBe('Allowed');
    expect(await decide(p, 'secretsmanager:GetSecretValue', KEY_SECRET_ARN)).not.toBe('Allowed');
    expect(await decide(p, 'secretsmanager:GetSecretValue', CREDENTIALS_ARN)).not.toBe('Allowed');
    expect(await decide(p, 'secretsmanager:PutSecretValue', KEY_SECRET_ARN)).not.toBe('Allowed');
  });
});
