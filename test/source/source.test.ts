import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ADOBE_ROLE_ARN, ACCOUNT, REGION, all, identityPolicies, newBucket, newSandbox, newStack, only } from './util';
import { AepS3Source, S3SourceAuth, S3SourceAuthMode } from '../../src';
import {
  AepIds,
  Attributes,
  CommonProps,
  ConnectionProps,
  DefaultEndpoints,
  HandlerEnvironment, REFRESH_PINNED_KEYS,
  IamRoleLookupProps,
  RefreshEventKeys,
  RefreshMetric,
  ResourceTypes,
} from '../../src/private/contract';
import { annotationsOf } from '../synth';

const connectionOf = (t: Template) => only(t, ResourceTypes.CONNECTION);

/** Reads a `Fn::Join` of only literal strings back into one string (and leaves strings alone). */
function joined(value: any): any {
  return value?.['Fn::Join'] ? value['Fn::Join'][1].map((p: any) => (typeof p === 'string' ? p : JSON.stringify(p))).join(value['Fn::Join'][0]) : value;
}

describe('AepS3Source with S3SourceAuth.accessKey() (long-term key)', () => {
  const stack = newStack();
  const bucket = newBucket(stack);
  const source = new AepS3Source(stack, 'Source', {
    sandbox: newSandbox(stack),
    bucket,
    folderPath: 'exports/crm',
  });
  const template = Template.fromStack(stack);
  const [connectionId, connection] = connectionOf(template);
  const props = connection.Properties;

  test('registers an Access Key connection for the S3 source spec', () => {
    expect(props[ConnectionProps.CONNECTION_SPEC_ID]).toBe(AepIds.S3_SOURCE_CONNECTION_SPEC);
    expect(props[ConnectionProps.AUTH_SPEC_NAME]).toBe('Access Key');
    expect(props[ConnectionProps.AUTH_PARAMS]).toEqual({
      bucketName: { Ref: stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket) },
      folderPath: 'exports/crm',
      serviceUrl: `https://s3.${REGION}.amazonaws.com`,
    });
    expect(props[ConnectionProps.AUTH_SECRET_FIELDS]).toEqual({ s3AccessKey: 'accessKeyId', s3SecretKey: 'secretAccessKey' });
    expect(props[ConnectionProps.VERIFY_AWS_KEY]).toBe('true');
    expect(props[ConnectionProps.SESSION_TOKEN_DURATION]).toBeUndefined();
    expect(source.authMode).toBe(S3SourceAuthMode.ACCESS_KEY);
  });

  test('the key secret is referenced by ARN and the change token is the access key id', () => {
    const [keyId] = only(template, 'AWS::IAM::AccessKey');
    const [secretId] = only(template, 'AWS::SecretsManager::Secret');
    expect(props[ConnectionProps.AUTH_SECRET_ARN]).toEqual({ Ref: secretId });
    expect(props[ConnectionProps.CHANGE_TOKEN]).toEqual({ Ref: keyId });
  });

  test('no secret value reaches a property outside the secret', () => {
    const [keyId] = only(template, 'AWS::IAM::AccessKey');
    for (const [id, res] of Object.entries(template.toJSON().Resources as Record<string, any>)) {
      const text = JSON.stringify(res);
      if (res.Type !== 'AWS::SecretsManager::Secret') expect([id, text.includes('SecretAccessKey')]).toEqual([id, false]);
    }
    const whole = JSON.stringify(template.toJSON());
    expect(whole).not.toMatch(/\b(AKIA|ASIA)[A-Z0-9]{16}\b/);
    const [, secret] = only(template, 'AWS::SecretsManager::Secret');
    expect(JSON.stringify(secret.Properties.SecretString)).toContain(JSON.stringify({ 'Fn::GetAtt': [keyId, 'SecretAccessKey'] }).slice(1, -1));
  });

  test('the user policy is read-only and folder-scoped, and the connection waits for it', () => {
    const [userId] = only(template, 'AWS::IAM::User');
    const policies = identityPolicies(template, userId);
    expect(policies).toHaveLength(1);
    // Inline on the user: the user exists before its key, and the connection waits for both.
    const [{ carrierId: policyId, document }] = policies;
    expect(policyId).toBe(userId);
    const bucketId = stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket);
    expect(document.Statement).toEqual([
      {
        Sid: 'AepObjects',
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/exports/crm/*']] },
      },
      {
        Sid: 'AepListFolder',
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: { 'Fn::GetAtt': [bucketId, 'Arn'] },
        Condition: { StringLike: { 's3:prefix': ['exports/crm', 'exports/crm/', 'exports/crm/*'] } },
      },
      { Sid: 'AepBucket', Effect: 'Allow', Action: 's3:GetBucketLocation', Resource: { 'Fn::GetAtt': [bucketId, 'Arn'] } },
    ]);
    expect(connection.DependsOn).toContain(policyId);
  });

  test('exposes the user as grantee and the key secret, and no refresh machinery', () => {
    expect(source.grantee).toBe(source.user);
    expect(source.credentialsSecret).toBeDefined();
    expect(source.aepPrincipalArn).toBeUndefined();
    expect(source.refreshFunction).toBeUndefined();
    template.resourceCountIs('AWS::Events::Rule', 0);
    expect(() => source.metricRefreshSuccess()).toThrow(/needs S3SourceAuth.accessKey\(\{ sessionToken/);
    expect(() => source.addRefreshFailureAlarm(stack, 'Nope')).toThrow(/registers no temporary credentials/);
  });

  test('connection id and name come from the custom resource', () => {
    expect(stack.resolve(source.connectionId)).toEqual({ 'Fn::GetAtt': [connectionId, Attributes.CONNECTION_ID] });
    expect(props[ConnectionProps.NAME]).toBe(source.connectionName);
    expect(source.connectionName).toMatch(/^cdk-Src-Source-Connection-[0-9A-F]{8}$/);
  });
});

describe('AepS3Source with session tokens', () => {
  const stack = newStack();
  const bucket = newBucket(stack);
  const sandbox = newSandbox(stack, 'dev-sandbox');
  const source = new AepS3Source(stack, 'Source', {
    sandbox,
    bucket,
    folderPath: 'exports/crm',
    auth: S3SourceAuth.accessKey({ sessionToken: { duration: Duration.hours(6), refreshEvery: Duration.minutes(90) } }),
  });
  const alarm = source.addRefreshFailureAlarm(stack, 'RefreshAlarm', { alarmName: 'aep-refresh' });
  const template = Template.fromStack(stack);
  const [connectionId, connection] = connectionOf(template);
  const [secretId] = only(template, 'AWS::SecretsManager::Secret');
  const refreshFnId = stack.getLogicalId(source.refreshFunction!.node.defaultChild as any);
  const refreshFn = template.toJSON().Resources[refreshFnId];

  test('the connection asks the handler for STS session credentials of the configured lifetime', () => {
    expect(connection.Properties[ConnectionProps.SESSION_TOKEN_DURATION]).toBe('21600');
    expect(connection.Properties[ConnectionProps.VERIFY_AWS_KEY]).toBe('true');
  });

  test('a schedule invokes the refresh entry point at the configured rate with the contract event', () => {
    const [, rule] = only(template, 'AWS::Events::Rule');
    expect(rule.Properties.ScheduleExpression).toBe('rate(90 minutes)');
    expect(rule.Properties.Targets).toHaveLength(1);
    expect(rule.Properties.Targets[0].Arn).toEqual({ 'Fn::GetAtt': [refreshFnId, 'Arn'] });
    const input = stack.resolve(rule.Properties.Targets[0].Input);
    const text = JSON.stringify(input);
    // The input is a Fn::Join around JSON; check every contract key and the references.
    for (const key of [...Object.values(CommonProps), ...Object.values(RefreshEventKeys)]) expect(text).toContain(`\\"${key}\\":`);
    expect(text).toContain(JSON.stringify({ 'Fn::GetAtt': [connectionId, Attributes.CONNECTION_ID] }));
    expect(text).toContain(JSON.stringify({ Ref: secretId }));
    expect(text).toContain('\\"SessionTokenDurationSeconds\\":\\"21600\\"');
    expect(text).toContain('\\"AepSandboxName\\":\\"dev-sandbox\\"');
    expect(text).toContain(`\\"Name\\":\\"${source.connectionName}\\"`);
  });

  test('the refresh function runs index.refreshHandler from the same asset as the onEvent handler', () => {
    const handlers = all(template, 'AWS::Lambda::Function').filter(([, f]) => f.Properties.Handler === 'index.handler');
    expect(handlers).toHaveLength(1);
    const onEvent = handlers[0][1];
    expect(refreshFn.Properties.Handler).toBe('index.refreshHandler');
    expect(refreshFn.Properties.Code).toEqual(onEvent.Properties.Code);
    expect(refreshFn.Properties.Runtime).toBe(onEvent.Properties.Runtime);
    expect(refreshFn.Properties.LoggingConfig.LogGroup).toBeDefined();
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: refreshFnId },
      MaximumRetryAttempts: 0,
    });
  });

  test('the refresh function may call only its sandbox\'s endpoints, fixed in its environment (not taken from the schedule\'s input)', () => {
    expect(refreshFn.Properties.Environment.Variables).toMatchObject({
      [HandlerEnvironment.ALLOWED_ENDPOINTS]: JSON.stringify([[DefaultEndpoints.FLOW_SERVICE_URL, DefaultEndpoints.IMS_URL]]),
    });
  });

  test('the refresh function is pinned to its own connection, key secret and sandbox (an event cannot name another)', () => {
    const pinned = JSON.stringify(refreshFn.Properties.Environment.Variables[HandlerEnvironment.REFRESH_TARGET]);
    for (const key of REFRESH_PINNED_KEYS) expect(pinned).toContain(`\\"${key}\\":`);
    // The connection id is the connection resource's, resolved at deploy time.
    expect(pinned).toMatch(/Fn::GetAtt/);
    expect(pinned).toContain('dev-sandbox');
  });

  test('the refresh function has its own log group with a retention', () => {
    const logGroupId = refreshFn.Properties.LoggingConfig.LogGroup.Ref;
    const logGroup = template.toJSON().Resources[logGroupId];
    expect(logGroup.Type).toBe('AWS::Logs::LogGroup');
    expect(logGroup.Properties.RetentionInDays).toBe(30);
  });

  test('the refresh role reads exactly the API credential and the key secret, and writes its own logs', () => {
    const roleId = refreshFn.Properties.Role['Fn::GetAtt'][0];
    const policies = all(template, 'AWS::IAM::Policy').filter(([, p]) => JSON.stringify(p.Properties.Roles ?? []).includes(roleId));
    // The default policy (logs) and the secret-read policy the schedule depends on.
    expect(policies).toHaveLength(2);
    const [[readId, read]] = policies.filter(([id]) => id.includes('SecretRead'));
    const [, rule] = only(template, 'AWS::Events::Rule');
    expect(rule.DependsOn).toContain(readId);
    const statements = policies.flatMap(([, p]) => p.Properties.PolicyDocument.Statement) as any[];
    const secretReads = statements.filter((s) => JSON.stringify(s.Action).includes('secretsmanager'));
    expect(read.Properties.PolicyDocument.Statement).toEqual(secretReads);
    // GetSecretValue only: the refresh never describes a secret.
    expect(secretReads.map((s) => s.Action)).toEqual(['secretsmanager:GetSecretValue', 'secretsmanager:GetSecretValue']);
    expect(secretReads.map((s) => joined(s.Resource))).toEqual([
      `arn:{"Ref":"AWS::Partition"}:secretsmanager:${REGION}:${ACCOUNT}:secret:aep/credentials-??????`,
      { Ref: secretId },
    ]);
    const others = statements.filter((s) => !secretReads.includes(s));
    expect(others).toEqual([{
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: { 'Fn::GetAtt': [refreshFn.Properties.LoggingConfig.LogGroup.Ref, 'Arn'] },
    }]);
    const role = template.toJSON().Resources[roleId];
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });

  test('metrics: EMF success metric, Lambda errors, and an alarm on the absence of success', () => {
    const success = stack.resolve(source.metricRefreshSuccess().toMetricConfig().metricStat);
    expect(success.namespace).toBe(RefreshMetric.NAMESPACE);
    expect(success.metricName).toBe(RefreshMetric.NAME);
    expect(success.dimensions).toEqual([{ name: RefreshMetric.DIMENSION, value: source.connectionName }]);
    expect(success.statistic).toBe('Minimum');
    const errors = stack.resolve(source.metricRefreshErrors().toMetricConfig().metricStat);
    expect(errors.metricName).toBe('Errors');
    expect(errors.dimensions).toEqual([{ name: 'FunctionName', value: { Ref: refreshFnId } }]);

    expect(alarm.node.scope).toBe(stack);
    const [, cfnAlarm] = only(template, 'AWS::CloudWatch::Alarm');
    // 6 h credentials refreshed every 90 min: 5-minute periods covering 90 + 8 minutes.
    expect(cfnAlarm.Properties).toMatchObject({
      AlarmName: 'aep-refresh',
      Namespace: RefreshMetric.NAMESPACE,
      MetricName: RefreshMetric.NAME,
      Dimensions: [{ Name: RefreshMetric.DIMENSION, Value: source.connectionName }],
      Statistic: 'Maximum',
      Period: 300,
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      EvaluationPeriods: 20,
      DatapointsToAlarm: 20,
      TreatMissingData: 'breaching',
    });
    expect(cfnAlarm.DependsOn).toContain(connectionId);
    expect(cfnAlarm.Properties.AlarmDescription).toContain('6 hours');
  });

  test('defaults: 12 hour credentials refreshed every 4 hours', () => {
    const s = newStack();
    const src = new AepS3Source(s, 'Source', {
      sandbox: newSandbox(s),
      bucket: newBucket(s),
      auth: S3SourceAuth.accessKey({ sessionToken: {} }),
    });
    const t = Template.fromStack(s);
    expect(connectionOf(t)[1].Properties[ConnectionProps.SESSION_TOKEN_DURATION]).toBe('43200');
    expect(only(t, 'AWS::Events::Rule')[1].Properties.ScheduleExpression).toBe('rate(4 hours)');
    expect(src.refreshSchedule).toBeDefined();
  });

  test('a 30 minute lifetime is refreshed every 15 minutes', () => {
    const auth = S3SourceAuth.accessKey({ sessionToken: { duration: Duration.minutes(30) } });
    expect(auth.refreshEvery?.toMinutes()).toBe(15);
  });
});

describe('AepS3Source with S3SourceAuth.iamRole()', () => {
  test('looks the role up, grants it in the bucket policy, and registers after the policy exists', () => {
    const stack = newStack();
    const bucket = newBucket(stack);
    const source = new AepS3Source(stack, 'Source', {
      sandbox: newSandbox(stack),
      bucket,
      folderPath: 'exports/crm',
      auth: S3SourceAuth.iamRole(),
    });
    const template = Template.fromStack(stack);
    const [lookupId, lookup] = only(template, ResourceTypes.IAM_ROLE_LOOKUP);
    expect(lookup.Properties[IamRoleLookupProps.CONNECTION_SPEC_ID]).toBe(AepIds.S3_SOURCE_CONNECTION_SPEC);
    expect(lookup.Properties[CommonProps.SANDBOX_NAME]).toBe('prod');
    expect(stack.resolve(source.aepPrincipalArn)).toEqual({ 'Fn::GetAtt': [lookupId, Attributes.IAM_ROLE_ARN] });

    const bucketId = stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket);
    const [policyId, policy] = only(template, 'AWS::S3::BucketPolicy');
    const principal = { AWS: { 'Fn::GetAtt': [lookupId, Attributes.IAM_ROLE_ARN] } };
    const statements = policy.Properties.PolicyDocument.Statement as any[];
    expect(statements).toEqual(expect.arrayContaining([
      {
        Sid: expect.stringMatching(/^AepObjects[0-9A-F]{8}$/),
        Effect: 'Allow',
        Principal: principal,
        Action: 's3:Get*',
        // The `/*` Adobe's sample lacks.
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/exports/crm/*']] },
      },
      {
        Sid: expect.stringMatching(/^AepListFolder[0-9A-F]{8}$/),
        Effect: 'Allow',
        Principal: principal,
        Action: 's3:ListBucket',
        Resource: { 'Fn::GetAtt': [bucketId, 'Arn'] },
        Condition: { StringLike: { 's3:prefix': ['exports/crm', 'exports/crm/', 'exports/crm/*'] } },
      },
    ]));

    const [, connection] = connectionOf(template);
    expect(connection.Properties[ConnectionProps.AUTH_SPEC_NAME]).toBe('IAMRole Based');
    expect(connection.Properties[ConnectionProps.AUTH_PARAMS]).toEqual({ bucketName: { Ref: bucketId } });
    expect(connection.Properties[ConnectionProps.AUTH_SECRET_ARN]).toBeUndefined();
    expect(connection.DependsOn).toContain(policyId);

    // No credential at all.
    template.resourceCountIs('AWS::IAM::User', 0);
    template.resourceCountIs('AWS::IAM::AccessKey', 0);
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    expect(source.grantee).toBeUndefined();
    expect(source.credentialsSecret).toBeUndefined();
    expect(annotationsOf(stack).findWarning('*', Match.anyValue())).toEqual([]);
  });

  test('a given role ARN is used as is, without a lookup', () => {
    const stack = newStack();
    new AepS3Source(stack, 'Source', {
      sandbox: newSandbox(stack),
      bucket: newBucket(stack),
      auth: S3SourceAuth.iamRole({ adobeRoleArn: ADOBE_ROLE_ARN }),
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs(ResourceTypes.IAM_ROLE_LOOKUP, 0);
    const [, policy] = only(template, 'AWS::S3::BucketPolicy');
    const aep = (policy.Properties.PolicyDocument.Statement as any[]).filter((s) => s.Principal?.AWS === ADOBE_ROLE_ARN);
    expect(aep.map((s) => s.Action)).toEqual(['s3:Get*', 's3:ListBucket']);
    // Whole bucket: no prefix condition.
    expect(aep[1].Condition).toBeUndefined();
    expect(aep[0].Resource['Fn::Join'][1][1]).toBe('/*');
  });

  test('two sources on one bucket get distinct statement ids', () => {
    const stack = newStack();
    const bucket = newBucket(stack);
    const sandbox = newSandbox(stack);
    for (const folderPath of ['a', 'b']) {
      new AepS3Source(stack, `Source-${folderPath}`, { sandbox, bucket, folderPath, auth: S3SourceAuth.iamRole({ adobeRoleArn: ADOBE_ROLE_ARN }) });
    }
    const [, policy] = only(Template.fromStack(stack), 'AWS::S3::BucketPolicy');
    const sids = (policy.Properties.PolicyDocument.Statement as any[]).map((s) => s.Sid).filter(Boolean);
    expect(new Set(sids).size).toBe(sids.length);
    expect(sids.filter((s) => s.startsWith('Aep'))).toHaveLength(4);
  });

  test('an imported bucket gets no policy; a warning lists the exact statements and the role is an output', () => {
    const stack = newStack();
    const bucket = s3.Bucket.fromBucketName(stack, 'Imported', 'partner-drop');
    const source = new AepS3Source(stack, 'Source', {
      sandbox: newSandbox(stack),
      bucket,
      folderPath: 'inbound/aep',
      auth: S3SourceAuth.iamRole(),
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::S3::BucketPolicy', 0);
    const warnings = annotationsOf(stack).findWarning('/Src/Source', Match.stringLikeRegexp('cdk-aep-s3:source-bucket-policy-not-attached'));
    expect(warnings).toHaveLength(1);
    const message = String(warnings[0].entry.data);
    const json = JSON.parse(message.substring(message.indexOf('[{'), message.lastIndexOf('}]') + 2));
    const outputs = template.toJSON().Outputs as Record<string, any>;
    const [outputId, output] = Object.entries(outputs).find(([, o]) => JSON.stringify(o.Value).includes(Attributes.IAM_ROLE_ARN))!;
    expect(output.Value).toEqual(stack.resolve(source.aepPrincipalArn));
    const principal = { AWS: `<the value of output ${outputId} of stack Src>` };
    expect(json).toEqual([
      {
        Sid: expect.stringMatching(/^AepObjects/),
        Effect: 'Allow',
        Principal: principal,
        Action: 's3:Get*',
        Resource: 'arn:aws:s3:::partner-drop/inbound/aep/*',
      },
      {
        Sid: expect.stringMatching(/^AepListFolder/),
        Effect: 'Allow',
        Principal: principal,
        Action: 's3:ListBucket',
        Resource: 'arn:aws:s3:::partner-drop',
        Condition: { StringLike: { 's3:prefix': ['inbound/aep', 'inbound/aep/', 'inbound/aep/*'] } },
      },
    ]);
    expect(message).toContain('s3://partner-drop/inbound/aep/');
    // The connection is still registered (with nothing to wait for).
    expect(connectionOf(template)[1].Properties[ConnectionProps.AUTH_PARAMS]).toEqual({ bucketName: 'partner-drop' });
  });

  test('an imported bucket with a given role ARN names that ARN in the warning, and adds no output', () => {
    const stack = newStack();
    new AepS3Source(stack, 'Source', {
      sandbox: newSandbox(stack),
      bucket: s3.Bucket.fromBucketName(stack, 'Imported', 'partner-drop'),
      auth: S3SourceAuth.iamRole({ adobeRoleArn: ADOBE_ROLE_ARN }),
    });
    const warnings = annotationsOf(stack).findWarning('*', Match.stringLikeRegexp('source-bucket-policy-not-attached'));
    expect(String(warnings[0].entry.data)).toContain(`"Principal":{"AWS":"${ADOBE_ROLE_ARN}"}`);
    expect(Template.fromStack(stack).toJSON().Outputs).toBeUndefined();
  });

  test('an owned bucket in another stack needs adobeRoleArn (the lookup would make a cycle)', () => {
    const app = new App();
    const bucketStack = newStack(app, 'Data');
    const bucket = newBucket(bucketStack);
    const stack = newStack(app, 'Aep');
    expect(() => new AepS3Source(stack, 'Source', { sandbox: newSandbox(stack), bucket, auth: S3SourceAuth.iamRole() }))
      .toThrow(/^Invalid auth "S3SourceAuth.iamRole\(\)": .*pass adobeRoleArn/);
    expect(() => new AepS3Source(stack, 'Source2', {
      sandbox: newSandbox(stack), bucket, auth: S3SourceAuth.iamRole({ adobeRoleArn: ADOBE_ROLE_ARN }),
    })).not.toThrow();
  });
});

describe('SSE-KMS buckets', () => {
  test('access key: kms:Decrypt on the bucket key', () => {
    const stack = newStack();
    const bucket = newBucket(stack, { kms: true });
    new AepS3Source(stack, 'Source', { sandbox: newSandbox(stack), bucket });
    const template = Template.fromStack(stack);
    const [keyId] = only(template, 'AWS::KMS::Key');
    const [userId] = only(template, 'AWS::IAM::User');
    const [{ document }] = identityPolicies(template, userId);
    expect(document.Statement).toContainEqual({
      Sid: 'AepBucketKey',
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: { 'Fn::GetAtt': [keyId, 'Arn'] },
      Condition: { StringEquals: { 'kms:ViaService': `s3.${REGION}.amazonaws.com` } },
    });
  });

  test('access key: an explicit key for an imported bucket', () => {
    const stack = newStack();
    const keyArn = `arn:aws:kms:${REGION}:${ACCOUNT}:key/11111111-2222-3333-4444-555555555555`;
    const encryptionKey = kms.Key.fromKeyArn(stack, 'Key', keyArn);
    new AepS3Source(stack, 'Source', {
      sandbox: newSandbox(stack),
      bucket: s3.Bucket.fromBucketName(stack, 'Imported', 'partner-drop'),
      encryptionKey,
    });
    const template = Template.fromStack(stack);
    const [, connection] = connectionOf(template);
    expect(connection.Properties[ConnectionProps.AUTH_PARAMS]).toEqual({
      bucketName: 'partner-drop',
      serviceUrl: `https://s3.${REGION}.amazonaws.com`,
    });
    const [{ document }] = identityPolicies(template, only(template, 'AWS::IAM::User')[0]);
    expect(document.Statement).toContainEqual(expect.objectContaining({ Action: 'kms:Decrypt', Resource: keyArn }));
  });

  test('iam role: key policy lets the role decrypt through S3 only, and a warning explains the Adobe side', () => {
    const stack = newStack();
    const bucket = newBucket(stack, { kms: true });
    new AepS3Source(stack, 'Source', {
      sandbox: newSandbox(stack), bucket, auth: S3SourceAuth.iamRole({ adobeRoleArn: ADOBE_ROLE_ARN }),
    });
    const template = Template.fromStack(stack);
    const [keyId, key] = only(template, 'AWS::KMS::Key');
    expect(key.Properties.KeyPolicy.Statement).toContainEqual({
      Sid: expect.stringMatching(/^AepDecrypt/),
      Effect: 'Allow',
      Principal: { AWS: ADOBE_ROLE_ARN },
      Action: 'kms:Decrypt',
      Resource: '*',
      Condition: { StringEquals: { 'kms:ViaService': `s3.${REGION}.amazonaws.com` } },
    });
    expect(connectionOf(template)[1].DependsOn).toContain(keyId);
    expect(annotationsOf(stack).findWarning('*', Match.stringLikeRegexp('source-kms-cross-account'))).toHaveLength(1);
  });

  test('iam role: an imported key gets a warning with the key-policy statement', () => {
    const stack = newStack();
    new AepS3Source(stack, 'Source', {
      sandbox: newSandbox(stack),
      bucket: newBucket(stack),
      encryptionKey: kms.Key.fromKeyArn(stack, 'Key', `arn:aws:kms:${REGION}:${ACCOUNT}:key/11111111-2222-3333-4444-555555555555`),
      auth: S3SourceAuth.iamRole({ adobeRoleArn: ADOBE_ROLE_ARN }),
    });
    const warnings = annotationsOf(stack).findWarning('*', Match.stringLikeRegexp('source-key-policy-not-attached'));
    expect(warnings).toHaveLength(1);
    expect(String(warnings[0].entry.data)).toContain(`"kms:ViaService":"s3.${REGION}.amazonaws.com"`);
  });
});

describe('serviceUrl and removal', () => {
  test('region from an imported bucket, an env-agnostic stack, China, or an override', () => {
    const urlOf = (stack: Stack) => stack.resolve(connectionOf(Template.fromStack(stack))[1].Properties[ConnectionProps.AUTH_PARAMS].serviceUrl);

    const imported = newStack();
    new AepS3Source(imported, 'S', {
      sandbox: newSandbox(imported),
      bucket: s3.Bucket.fromBucketAttributes(imported, 'B', { bucketName: 'far-away', region: 'ap-southeast-2' }),
    });
    expect(urlOf(imported)).toBe('https://s3.ap-southeast-2.amazonaws.com');

    const agnostic = new Stack(new App(), 'Agnostic');
    new AepS3Source(agnostic, 'S', { sandbox: newSandbox(agnostic), bucket: newBucket(agnostic) });
    expect(urlOf(agnostic)).toEqual({ 'Fn::Join': ['', ['https://s3.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }]] });

    const china = new Stack(new App(), 'Cn', { env: { account: ACCOUNT, region: 'cn-north-1' } });
    new AepS3Source(china, 'S', { sandbox: newSandbox(china), bucket: newBucket(china) });
    expect(urlOf(china)).toBe('https://s3.cn-north-1.amazonaws.com.cn');

    const custom = newStack();
    new AepS3Source(custom, 'S', {
      sandbox: newSandbox(custom),
      bucket: newBucket(custom),
      auth: S3SourceAuth.accessKey({ serviceUrl: 'https://s3.us-west-2.amazonaws.com' }),
    });
    expect(urlOf(custom)).toBe('https://s3.us-west-2.amazonaws.com');
  });

  test('RETAIN keeps the connection and the credential, not the refresh schedule', () => {
    const stack = newStack();
    new AepS3Source(stack, 'Source', {
      sandbox: newSandbox(stack),
      bucket: newBucket(stack),
      auth: S3SourceAuth.accessKey({ sessionToken: {} }),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const template = Template.fromStack(stack);
    expect(connectionOf(template)[1].Properties[ConnectionProps.REMOVAL_POLICY]).toBe('retain');
    for (const type of ['AWS::IAM::User', 'AWS::IAM::AccessKey', 'AWS::SecretsManager::Secret']) {
      expect([type, only(template, type)[1].DeletionPolicy]).toEqual([type, 'Retain']);
    }
    expect(only(template, 'AWS::Events::Rule')[1].DeletionPolicy).toBeUndefined();
  });

  test('the bucket name is checked with the source rules even for created buckets', () => {
    const stack = newStack();
    expect(() => new AepS3Source(stack, 'S', { sandbox: newSandbox(stack), bucket: newBucket(stack, { name: 'acme.aep.inbound' }) }))
      .toThrow('Invalid bucket "acme.aep.inbound": must be lowercase letters, digits and hyphens only (no dots)');
  });

});
