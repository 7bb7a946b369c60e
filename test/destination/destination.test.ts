import { App, CfnParameter, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { openpgp } from './openpgp';
import { connection, newSandbox, newStack, only, ORG_ID } from './util';
import {
  AdobeDestinationPrincipal,
  AepS3Destination,
  AepS3DestinationProps,
  AepSandbox,
  Compression,
  CsvDelimiter,
  CsvEscape,
  CsvQuote,
  CsvValueRepresentation,
  DatasetFileType,
  ExportFileType,
  ExportType,
  FileEncryption,
  S3DestinationAuth,
} from '../../src';
import { AepIds, Attributes, ConnectionProps, DestinationConnectionProps, RemovalPolicies, ResourceTypes } from '../../src/private/contract';
import { annotationsOf } from '../synth';

type Extra = Partial<AepS3DestinationProps>;

/** One destination in a fresh stack; the bucket is imported by name unless given. */
function synth(extra: Extra = {}, setup?: (stack: Stack) => Extra): { stack: Stack; dest: AepS3Destination; template: Template } {
  const stack = newStack();
  const sandbox = newSandbox(stack);
  const more = setup ? setup(stack) : {};
  const bucket = extra.bucket ?? more.bucket ?? s3.Bucket.fromBucketName(stack, 'Imported', 'acme-aep-exports');
  const dest = new AepS3Destination(stack, 'Exports', { sandbox, ...extra, ...more, bucket });
  return { stack, dest, template: Template.fromStack(stack) };
}

/** `synth()` with every default, built once: the tests that use it only read it. */
let defaults: ReturnType<typeof synth> | undefined;
const defaultSynth = () => (defaults ??= synth());

/**
 * AEP's one folder policy: inline (`Policies`) on the user or role the library creates, or an
 * AWS::IAM::Policy attached to a user you give. Returns the id of the resource that carries it
 * (what the connection must depend on), that resource, and the policy document.
 */
function aepPolicy(template: Template): { carrierId: string; carrier: any; document: any } {
  const found: { carrierId: string; carrier: any; document: any }[] = [];
  for (const type of ['AWS::IAM::User', 'AWS::IAM::Role']) {
    for (const [id, r] of Object.entries<any>(template.findResources(type))) {
      if (id.startsWith('CdkAepS3Provider')) continue;
      for (const p of r.Properties.Policies ?? []) found.push({ carrierId: id, carrier: r, document: p.PolicyDocument });
    }
  }
  for (const [id, r] of Object.entries<any>(template.findResources('AWS::IAM::Policy'))) {
    if (!id.startsWith('CdkAepS3Provider')) found.push({ carrierId: id, carrier: r, document: r.Properties.PolicyDocument });
  }
  expect(found).toHaveLength(1);
  return found[0];
}

/** The role AEP assumes (the provider's own roles excluded). */
function aepRole(template: Template): [string, any] {
  const roles = Object.entries(template.findResources('AWS::IAM::Role')).filter(([id]) => !id.startsWith('CdkAepS3Provider'));
  expect(roles).toHaveLength(1);
  return roles[0];
}

const importedArn = (suffix = '') => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:s3:::acme-aep-exports${suffix}`]] });

const OBJECT_ACTIONS = ['s3:PutObject', 's3:GetObject', 's3:DeleteObject', 's3:ListMultipartUploadParts'];
const KMS_ACTIONS = ['kms:GenerateDataKey', 'kms:Decrypt'];
/** The key may only be used through S3 in the bucket's region (SSE-KMS), never directly. */
const VIA_S3 = { StringEquals: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' } };

describe('access key auth (default)', () => {
  const { dest, template } = synth({ folderPath: 'aep/audiences/%SEGMENT_NAME%', fileType: ExportFileType.CSV, compression: Compression.GZIP });

  test('creates one IAM user with one access key whose secret lives in Secrets Manager', () => {
    template.resourceCountIs('AWS::IAM::User', 1);
    const [keyId, key] = only(template, 'AWS::IAM::AccessKey');
    const [userId] = only(template, 'AWS::IAM::User');
    expect(key.Properties).toEqual({ UserName: { Ref: userId }, Status: 'Active' });
    const [, secret] = only(template, 'AWS::SecretsManager::Secret');
    expect(secret.Properties.SecretString).toEqual({
      'Fn::Join': ['', [
        '{"accessKeyId":"', { Ref: keyId },
        '","secretAccessKey":"', { 'Fn::GetAtt': [keyId, 'SecretAccessKey'] }, '"}',
      ]],
    });
  });

  test('grants exactly the folder-scoped S3 permissions, to the user only', () => {
    const policy = aepPolicy(template);
    const [userId] = only(template, 'AWS::IAM::User');
    // Inline on the user: it applies to that user only.
    expect(policy.carrierId).toBe(userId);
    template.resourceCountIs('AWS::IAM::Role', 2); // the provider's handler and framework roles
    // No S3 action on either role (the handler's `cdk-aep-s3:owner` tag condition is not one).
    const roleActions = Object.values<any>(template.findResources('AWS::IAM::Role'))
      .flatMap((r) => (r.Properties.Policies ?? []).flatMap((p: any) => p.PolicyDocument.Statement.flatMap((st: any) => [st.Action].flat())));
    expect(roleActions.length).toBeGreaterThan(0);
    expect(roleActions.filter((a: string) => a.startsWith('s3:'))).toEqual([]);
    expect(JSON.stringify(template.findResources('AWS::IAM::Role'))).not.toMatch(/"s3:[A-Za-z*]+"/);
    expect(policy.document.Statement).toEqual([
      { Sid: 'AepObjects', Effect: 'Allow', Action: OBJECT_ACTIONS, Resource: importedArn('/aep/audiences/*') },
      {
        Sid: 'AepListFolder',
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: importedArn(),
        Condition: { StringLike: { 's3:prefix': ['aep/audiences', 'aep/audiences/', 'aep/audiences/*'] } },
      },
      { Sid: 'AepBucket', Effect: 'Allow', Action: 's3:GetBucketLocation', Resource: importedArn() },
    ]);
  });

  test('registers the key through the secret, verifying it first, with the key id as change token', () => {
    const [keyId] = only(template, 'AWS::IAM::AccessKey');
    const [secretId] = only(template, 'AWS::SecretsManager::Secret');
    const policyCarrier = aepPolicy(template).carrierId;
    const [, cr] = connection(template);
    expect(cr.Properties).toMatchObject({
      [ConnectionProps.CONNECTION_SPEC_ID]: AepIds.S3_DESTINATION_CONNECTION_SPEC,
      [ConnectionProps.AUTH_SPEC_NAME]: 'Access Key',
      [ConnectionProps.AUTH_PARAMS]: {},
      [ConnectionProps.AUTH_SECRET_ARN]: { Ref: secretId },
      [ConnectionProps.AUTH_SECRET_FIELDS]: { s3AccessKey: 'accessKeyId', s3SecretKey: 'secretAccessKey' },
      [ConnectionProps.CHANGE_TOKEN]: { Ref: keyId },
      [ConnectionProps.VERIFY_AWS_KEY]: 'true',
      [ConnectionProps.REMOVAL_POLICY]: RemovalPolicies.DELETE,
    });
    expect(cr.Properties[ConnectionProps.ENCRYPTION]).toBeUndefined();
    // AEP may test the key as soon as it has it: the permissions must already exist.
    expect(cr.DependsOn).toContain(policyCarrier);
  });

  test('the target connection rides on the same custom resource (the handler orders base and target)', () => {
    const [, cr] = connection(template);
    template.resourceCountIs(ResourceTypes.CONNECTION, 0);
    template.resourceCountIs(ResourceTypes.TARGET_CONNECTION, 0);
    expect(cr.Properties[DestinationConnectionProps.CONNECTION_SPEC_ID]).toBe(AepIds.S3_DESTINATION_CONNECTION_SPEC);
    expect(cr.Properties[DestinationConnectionProps.TARGET_PARAMS]).toEqual({
      mode: 'Server-to-server',
      bucketName: 'acme-aep-exports',
      path: 'aep/audiences/%SEGMENT_NAME%',
      fileType: 'CSV',
      compression: 'GZIP',
    });
    expect(cr.Properties[DestinationConnectionProps.REMOVAL_POLICY]).toBe(RemovalPolicies.DELETE);
  });

  test('exposes user, secret and grantee; no role', () => {
    expect(dest.user).toBeDefined();
    expect(dest.grantee).toBe(dest.user);
    expect(dest.credentialsSecret).toBeDefined();
    expect(dest.role).toBeUndefined();
    expect(dest.folderPrefix).toBe('aep/audiences/');
    expect(Stack.of(dest).resolve(dest.connectionId)).toEqual({ 'Fn::GetAtt': [connection(template)[0], Attributes.CONNECTION_ID] });
    expect(Stack.of(dest).resolve(dest.targetConnectionId)).toEqual({ 'Fn::GetAtt': [connection(template)[0], Attributes.TARGET_CONNECTION_ID] });
    expect(dest.connection.resource.node.path).toBe(`${dest.node.path}/Connection/Destination`);
  });

  test('no secret material in the template', () => {
    const json = JSON.stringify(template.toJSON());
    expect(json).not.toMatch(/\b(AKIA|ASIA)[A-Z2-7]{16}\b/);
    // Every reference to the secret access key is the one GetAtt inside the secret's value.
    expect(json.match(/"SecretAccessKey"/g)).toHaveLength(1);
    const [, cr] = connection(template);
    expect(JSON.stringify(cr)).not.toMatch(/SecretAccessKey|s3SecretKey":"[^s]/);
    template.resourcePropertiesCountIs('AWS::SecretsManager::Secret', { GenerateSecretString: Match.anyValue() }, 0);
  });
});

describe('rotation', () => {
  const rotated = (serial?: number) => synth({ auth: S3DestinationAuth.accessKey({ serial }) }).template;

  test('bumping serial replaces the access key and updates the same connection resource', () => {
    const before = rotated(1);
    const after = rotated(2);
    const [keyBefore, k1] = only(before, 'AWS::IAM::AccessKey');
    const [keyAfter, k2] = only(after, 'AWS::IAM::AccessKey');
    expect(k1.Properties.Serial).toBe(1);
    expect(k2.Properties.Serial).toBe(2);
    // Same logical id + changed Serial = CloudFormation replacement: the new key is created first,
    // its new Ref flows into ChangeToken (an update of the connection, which PATCHes AEP), and the
    // old key is deleted in the cleanup phase.
    expect(keyAfter).toBe(keyBefore);
    const [crBefore, c1] = connection(before);
    const [crAfter, c2] = connection(after);
    expect(crAfter).toBe(crBefore);
    expect(c1.Properties[ConnectionProps.CHANGE_TOKEN]).toEqual({ Ref: keyBefore });
    expect(c2.Properties[ConnectionProps.CHANGE_TOKEN]).toEqual({ Ref: keyAfter });
    expect(c2.Properties[ConnectionProps.NAME]).toBe(c1.Properties[ConnectionProps.NAME]);
    // The old key must really be deleted on replacement (never UpdateReplacePolicy: Retain).
    expect(k2.UpdateReplacePolicy).toBeUndefined();
    // Nothing else changes.
    const strip = (t: Template) => JSON.stringify(t.toJSON()).replace(/"Serial":\d+,?/, '');
    expect(strip(after)).toBe(strip(before));
  });

  test('rejects a negative or fractional serial', () => {
    expect(() => S3DestinationAuth.accessKey({ serial: -1 })).toThrow(/auth\.serial/);
    expect(() => S3DestinationAuth.accessKey({ serial: 1.5 })).toThrow(/auth\.serial/);
  });
});

describe('assumed role auth', () => {
  const { dest, template } = synth({ auth: S3DestinationAuth.assumedRole() });

  test("trusts the Adobe account root only for the sandbox's org (sts:ExternalId), and the deploy checks that org", () => {
    const [, role] = aepRole(template);
    expect(role.Properties.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [{
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Principal: { AWS: 'arn:aws:iam::670664943635:root' },
        Condition: { StringEquals: { 'sts:ExternalId': ORG_ID } },
      }],
    });
    expect(connection(template)[1].Properties[ConnectionProps.TRUSTED_IMS_ORG_ID]).toBe(ORG_ID);
  });

  test('lets CloudFormation generate the role name (no fixed RoleName)', () => {
    expect(aepRole(template)[1].Properties.RoleName).toBeUndefined();
  });

  test('passes the role ARN as s3Role through a secret (never a CR property), no key probe', () => {
    const [roleId] = aepRole(template);
    const policy = aepPolicy(template);
    const [, cr] = connection(template);
    expect(cr.Properties[ConnectionProps.AUTH_SPEC_NAME]).toBe('Assumed Role');
    expect(cr.Properties[ConnectionProps.AUTH_PARAMS]).toEqual({});
    expect(JSON.stringify(cr.Properties)).not.toContain(roleId);
    const secrets = template.findResources('AWS::SecretsManager::Secret');
    const [secretId, secret] = Object.entries<any>(secrets)[0];
    expect(JSON.stringify(secret.Properties.SecretString)).toContain(roleId);
    expect(cr.Properties[ConnectionProps.AUTH_SECRET_ARN]).toEqual({ Ref: secretId });
    expect(cr.Properties[ConnectionProps.AUTH_SECRET_FIELDS]).toEqual({ s3Role: 'roleArn' });
    expect(cr.Properties[ConnectionProps.VERIFY_AWS_KEY]).toBeUndefined();
    // Inline on the role, which the connection depends on.
    expect(policy.carrierId).toBe(roleId);
    expect(cr.DependsOn).toContain(roleId);
    expect(policy.document.Statement.map((s: any) => s.Sid)).toEqual(['AepObjects', 'AepListFolder', 'AepBucket']);
    template.resourceCountIs('AWS::IAM::User', 0);
    template.resourceCountIs('AWS::IAM::AccessKey', 0);
    template.resourceCountIs('AWS::SecretsManager::Secret', 1);
  });

  test('does not output the role ARN by default', () => {
    expect(template.toJSON().Outputs ?? {}).toEqual({});
    expect(dest.role).toBeDefined();
    expect(dest.grantee).toBe(dest.role);
    expect(dest.user).toBeUndefined();
    expect(dest.credentialsSecret).toBeUndefined();
  });

  test('outputs the role ARN when asked', () => {
    const t = synth({ auth: S3DestinationAuth.assumedRole({ exposeRoleArnOutput: true }) }).template;
    const outputs = Object.values<any>(t.toJSON().Outputs);
    expect(outputs).toHaveLength(1);
    expect(outputs[0].Value).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^ExportsAuthRole/), 'Arn'] });
  });

  test('can trust only the destinations-adobe-user principal', () => {
    const t = synth({ auth: S3DestinationAuth.assumedRole({ trustedPrincipal: AdobeDestinationPrincipal.DESTINATIONS_USER }) }).template;
    t.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [{
          Effect: 'Allow',
          Action: 'sts:AssumeRole',
          Principal: { AWS: 'arn:aws:iam::670664943635:user/destinations-adobe-user' },
          Condition: { StringEquals: { 'sts:ExternalId': ORG_ID } },
        }],
      },
    });
  });
});

describe('assumed role: which IMS org the trust admits', () => {
  /** The trust policy and the connection of one assumed-role destination on a sandbox of `sandboxOrg`. */
  function trustOf(auth: () => S3DestinationAuth, sandboxOrg: string | null = ORG_ID): { trust: any; cr: any; stack: Stack } {
    const stack = newStack();
    new AepS3Destination(stack, 'Exports', {
      sandbox: newSandbox(stack, 'prod', sandboxOrg),
      bucket: s3.Bucket.fromBucketName(stack, 'Imported', 'acme-aep-exports'),
      auth: auth(),
    });
    const template = Template.fromStack(stack);
    return { trust: aepRole(template)[1].Properties.AssumeRolePolicyDocument, cr: connection(template)[1], stack };
  }

  test('an org id on the auth overrides the sandbox one (trust and deploy-time check)', () => {
    const { trust, cr } = trustOf(() => S3DestinationAuth.assumedRole({ imsOrgId: 'OTHER42@AdobeOrg' }));
    expect(trust.Statement[0].Condition).toEqual({ StringEquals: { 'sts:ExternalId': 'OTHER42@AdobeOrg' } });
    expect(cr.Properties[ConnectionProps.TRUSTED_IMS_ORG_ID]).toBe('OTHER42@AdobeOrg');
  });

  test('an org id on the auth is enough when the sandbox has none', () => {
    const { trust } = trustOf(() => S3DestinationAuth.assumedRole({ imsOrgId: 'OTHER42@AdobeOrg' }), null);
    expect(trust.Statement[0].Condition).toEqual({ StringEquals: { 'sts:ExternalId': 'OTHER42@AdobeOrg' } });
  });

  test('a token org id (a CfnParameter) is not checked at synth and lands in both places', () => {
    const stack = newStack();
    const org = new CfnParameter(stack, 'AepOrg', { type: 'String' });
    new AepS3Destination(stack, 'Exports', {
      sandbox: new AepSandbox({ credentials: secretsmanager.Secret.fromSecretNameV2(stack, 'Cred', 'aep/credentials'), imsOrgId: org.valueAsString }),
      bucket: s3.Bucket.fromBucketName(stack, 'Imported', 'acme-aep-exports'),
      auth: S3DestinationAuth.assumedRole(),
    });
    const template = Template.fromStack(stack);
    expect(aepRole(template)[1].Properties.AssumeRolePolicyDocument.Statement[0].Condition)
      .toEqual({ StringEquals: { 'sts:ExternalId': { Ref: 'AepOrg' } } });
    expect(connection(template)[1].Properties[ConnectionProps.TRUSTED_IMS_ORG_ID]).toEqual({ Ref: 'AepOrg' });
  });

  test('no org id anywhere: a synth error naming the property, the rule and both fixes', () => {
    expect(() => trustOf(() => S3DestinationAuth.assumedRole(), null)).toThrow(
      /Invalid auth\.imsOrgId undefined: S3DestinationAuth\.assumedRole\(\) needs the Adobe IMS organization id .*sts:ExternalId.*confused deputy.*Set imsOrgId on the AepSandbox .* or S3DestinationAuth\.assumedRole\(\{ imsOrgId \}\), or accept the exposure with allowAnyAdobeOrg: true/,
    );
  });

  test('allowAnyAdobeOrg: the old trust (no condition, no deploy-time org check) and a warning naming the exposure', () => {
    for (const sandboxOrg of [null, ORG_ID]) {
      const { trust, cr, stack } = trustOf(() => S3DestinationAuth.assumedRole({ allowAnyAdobeOrg: true }), sandboxOrg);
      expect(trust).toEqual({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { AWS: 'arn:aws:iam::670664943635:root' } }],
      });
      expect(cr.Properties[ConnectionProps.TRUSTED_IMS_ORG_ID]).toBeUndefined();
      const warnings = annotationsOf(stack).findWarning('*', Match.stringLikeRegexp('confused deputy'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0].id).toBe('/Dest/Exports/Auth');
      expect(String(warnings[0].entry.data)).toMatch(/allowAnyAdobeOrg: true leaves the role without an sts:ExternalId condition: any AEP organization that learns the role ARN/);
    }
  });

  test('without allowAnyAdobeOrg there is no such warning', () => {
    expect(annotationsOf(trustOf(() => S3DestinationAuth.assumedRole()).stack).findWarning('*', Match.anyValue())).toEqual([]);
  });

  test('a malformed org id is refused at synth, on the auth and on the sandbox', () => {
    expect(() => S3DestinationAuth.assumedRole({ imsOrgId: 'ACME0123' }))
      .toThrow(/Invalid auth\.imsOrgId "ACME0123": must be an Adobe IMS organization id: letters and digits followed by '@AdobeOrg'/);
    expect(() => S3DestinationAuth.assumedRole({ imsOrgId: 'acme-org@AdobeOrg' })).toThrow(/auth\.imsOrgId/);
    const stack = newStack();
    expect(() => newSandbox(stack, 'prod', 'ACME0123@adobeorg')).toThrow(/Invalid imsOrgId "ACME0123@adobeorg": must be an Adobe IMS organization id/);
  });

  test('an org id together with allowAnyAdobeOrg is a contradiction', () => {
    expect(() => S3DestinationAuth.assumedRole({ imsOrgId: ORG_ID, allowAnyAdobeOrg: true }))
      .toThrow(/Invalid auth\.imsOrgId .*contradicts allowAnyAdobeOrg: true/);
  });

  test('access-key destinations carry no org check (nothing assumes a role)', () => {
    const { template } = defaultSynth();
    expect(connection(template)[1].Properties[ConnectionProps.TRUSTED_IMS_ORG_ID]).toBeUndefined();
  });
});

describe('bring your own key (accessKeyFromSecret)', () => {
  test('reads the default fields, verifies the key, creates no IAM resources without a user', () => {
    const { dest, template } = synth({}, (stack) => ({
      auth: S3DestinationAuth.accessKeyFromSecret(secretsmanager.Secret.fromSecretNameV2(stack, 'Key', 'team/aep-key')),
    }));
    const [, cr] = connection(template);
    expect(cr.Properties[ConnectionProps.AUTH_SECRET_FIELDS]).toEqual({ s3AccessKey: 'accessKeyId', s3SecretKey: 'secretAccessKey' });
    expect(JSON.stringify(cr.Properties[ConnectionProps.AUTH_SECRET_ARN])).toContain(':secret:team/aep-key');
    expect(cr.Properties[ConnectionProps.CHANGE_TOKEN]).toBeUndefined();
    expect(cr.Properties[ConnectionProps.VERIFY_AWS_KEY]).toBe('true');
    template.resourceCountIs('AWS::IAM::User', 0);
    expect(Object.keys(template.findResources('AWS::IAM::Policy')).filter((id) => !id.startsWith('CdkAepS3Provider'))).toEqual([]);
    expect(dest.grantee).toBeUndefined();
    expect(dest.credentialsSecret).toBeDefined();
  });

  test('custom fields, change token, and folder permissions on a given user', () => {
    const { dest, template } = synth({}, (stack) => ({
      auth: S3DestinationAuth.accessKeyFromSecret(secretsmanager.Secret.fromSecretNameV2(stack, 'Key', 'team/aep-key'), {
        accessKeyIdField: 'id',
        secretAccessKeyField: 'secret',
        changeToken: '2025-01-rotation',
        user: iam.User.fromUserName(stack, 'TeamUser', 'aep-writer'),
      }),
    }));
    const [, cr] = connection(template);
    expect(cr.Properties[ConnectionProps.AUTH_SECRET_FIELDS]).toEqual({ s3AccessKey: 'id', s3SecretKey: 'secret' });
    expect(cr.Properties[ConnectionProps.CHANGE_TOKEN]).toBe('2025-01-rotation');
    const policy = aepPolicy(template);
    expect(policy.carrier.Type).toBe('AWS::IAM::Policy');
    expect(policy.carrier.Properties.Users).toEqual(['aep-writer']);
    expect(cr.DependsOn).toContain(policy.carrierId);
    expect(dest.grantee).toBe(dest.user);
  });

  test('rejects empty field names', () => {
    const stack = new Stack(new App());
    const secret = secretsmanager.Secret.fromSecretNameV2(stack, 'S', 'x');
    expect(() => S3DestinationAuth.accessKeyFromSecret(secret, { accessKeyIdField: '' })).toThrow(/auth\.accessKeyIdField/);
    expect(() => S3DestinationAuth.accessKeyFromSecret(secret, { secretAccessKeyField: ' ' })).toThrow(/auth\.secretAccessKeyField/);
  });
});

describe('buckets and KMS keys', () => {
  test('imported bucket without a key: no KMS statement', () => {
    const { template } = defaultSynth();
    expect(JSON.stringify(aepPolicy(template).document)).not.toContain('kms:');
  });

  test('imported bucket + explicit key: KMS actions on that key only', () => {
    const keyArn = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const { template } = synth({}, (stack) => ({ encryptionKey: kms.Key.fromKeyArn(stack, 'Key', keyArn) }));
    expect(aepPolicy(template).document.Statement).toContainEqual({
      Sid: 'AepBucketKey', Effect: 'Allow', Action: KMS_ACTIONS, Resource: keyArn, Condition: VIA_S3,
    });
  });

  test('created bucket with BucketEncryption.KMS: KMS actions on the bucket key, bucket ARN via GetAtt', () => {
    const { template } = synth({}, (stack) => ({ bucket: new s3.Bucket(stack, 'Bucket', { encryption: s3.BucketEncryption.KMS }) }));
    const [bucketId] = only(template, 'AWS::S3::Bucket');
    const [kmsKeyId] = only(template, 'AWS::KMS::Key');
    const statements = aepPolicy(template).document.Statement;
    expect(statements).toContainEqual({
      Sid: 'AepBucketKey', Effect: 'Allow', Action: KMS_ACTIONS, Resource: { 'Fn::GetAtt': [kmsKeyId, 'Arn'] }, Condition: VIA_S3,
    });
    expect(statements[0].Resource).toEqual({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/aep/*']] });
    const [, target] = connection(template);
    expect(target.Properties[DestinationConnectionProps.TARGET_PARAMS].bucketName).toEqual({ Ref: bucketId });
  });

  test('a bucket of another region: the key is usable through S3 in that region', () => {
    const keyArn = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const { template } = synth({}, (stack) => ({
      bucket: s3.Bucket.fromBucketAttributes(stack, 'Virginia', { bucketName: 'acme-us-exports', region: 'us-east-1' }),
      encryptionKey: kms.Key.fromKeyArn(stack, 'Key', keyArn),
    }));
    const statements = aepPolicy(template).document.Statement;
    expect(statements.find((s: any) => s.Sid === 'AepBucketKey').Condition).toEqual({ StringEquals: { 'kms:ViaService': 's3.us-east-1.amazonaws.com' } });
  });

  test('created bucket with S3-managed encryption: no KMS statement', () => {
    const { template } = synth({}, (stack) => ({ bucket: new s3.Bucket(stack, 'Bucket', { encryption: s3.BucketEncryption.S3_MANAGED }) }));
    expect(JSON.stringify(aepPolicy(template).document)).not.toContain('kms:');
  });
});

describe('export settings', () => {
  test('dataset export: datasetFileType only, default folder aep/datasets', () => {
    const { dest, template } = synth({ exportType: ExportType.DATASETS, datasetFileType: DatasetFileType.PARQUET });
    const [, target] = connection(template);
    expect(target.Properties[DestinationConnectionProps.TARGET_PARAMS]).toEqual({
      mode: 'Server-to-server',
      bucketName: 'acme-aep-exports',
      path: 'aep/datasets',
      datasetFileType: 'PARQUET',
      compression: 'NONE',
    });
    expect(dest.folderPrefix).toBe('aep/datasets/');
  });

  test('audience defaults: CSV, no compression, folder per audience under aep/', () => {
    const { dest, template } = defaultSynth();
    const [, target] = connection(template);
    expect(target.Properties[DestinationConnectionProps.TARGET_PARAMS]).toEqual({
      mode: 'Server-to-server', bucketName: 'acme-aep-exports', path: 'aep/%SEGMENT_NAME%', fileType: 'CSV', compression: 'NONE',
    });
    expect(dest.folderPath).toBe('aep/%SEGMENT_NAME%');
    expect(dest.folderPrefix).toBe('aep/');
  });

  test('CSV options map to AEP characters; only the given ones are sent; manifest flag as string', () => {
    const { template } = synth({
      csvOptions: {
        delimiter: CsvDelimiter.TAB,
        quote: CsvQuote.NONE,
        escape: CsvEscape.SINGLE_QUOTE,
        nullValue: CsvValueRepresentation.QUOTED_EMPTY,
        emptyValue: CsvValueRepresentation.NULL_TEXT,
      },
      includeFileManifest: true,
    });
    const params = connection(template)[1].Properties[DestinationConnectionProps.TARGET_PARAMS];
    expect(params.csvOptions).toEqual({ delimiter: '\t', quote: '', escape: "'", nullValue: '""', emptyValue: 'null' });
    expect(params.includeFileManifest).toBe('true');
    const partial = synth({ csvOptions: { delimiter: CsvDelimiter.PIPE } }).template;
    expect(connection(partial)[1].Properties[DestinationConnectionProps.TARGET_PARAMS].csvOptions).toEqual({ delimiter: '|' });
  });

  test('JSON and PARQUET audience exports', () => {
    for (const fileType of [ExportFileType.JSON, ExportFileType.PARQUET]) {
      const { template } = synth({ fileType });
      expect(connection(template)[1].Properties[DestinationConnectionProps.TARGET_PARAMS].fileType).toBe(fileType);
    }
  });

  test('PGP file encryption is sent as the base connection encryption block', async () => {
    const { publicKey } = await openpgp.generateKey({ type: 'rsa', rsaBits: 2048, userIDs: [{ name: 'x' }], format: 'armored' });
    const b64 = Buffer.from(publicKey).toString('base64');
    const { template } = synth({ encryption: FileEncryption.pgp(b64) });
    expect(connection(template)[1].Properties[ConnectionProps.ENCRYPTION]).toEqual({
      specName: 'File Encryption', params: { encryptionAlgo: 'PGP/GPG', publicKey: b64 },
    });
  });
});

describe('names, sandbox, removal', () => {
  test('default connection name is deterministic and shared by base and target connections', () => {
    const a = connection(synth().template)[1].Properties[ConnectionProps.NAME];
    const b = connection(synth().template)[1].Properties[ConnectionProps.NAME];
    expect(a).toBe(b);
    expect(a).toMatch(/^cdk-Dest-Exports-/);
    const { template } = synth({ connectionName: 'acme-exports', description: 'Nightly audiences' });
    // One Name and Description, which the handler gives both AEP objects.
    expect(connection(template)[1].Properties).toMatchObject({ Name: 'acme-exports', Description: 'Nightly audiences' });
  });

  test('sandbox name and endpoints reach both custom resources', () => {
    const stack = newStack();
    const sandbox = newSandbox(stack, 'dev-eu');
    new AepS3Destination(stack, 'Exports', { sandbox, bucket: s3.Bucket.fromBucketName(stack, 'B', 'acme-aep-exports') });
    const t = Template.fromStack(stack);
    expect(connection(t)[1].Properties.AepSandboxName).toBe('dev-eu');
  });

  test('RETAIN keeps the AEP connections and the credential, but rotated keys are still deleted', () => {
    const { template } = synth({ removalPolicy: RemovalPolicy.RETAIN });
    expect(connection(template)[1].Properties[ConnectionProps.REMOVAL_POLICY]).toBe(RemovalPolicies.RETAIN);
    for (const type of ['AWS::IAM::User', 'AWS::IAM::AccessKey', 'AWS::SecretsManager::Secret']) {
      const [, r] = only(template, type);
      expect(r.DeletionPolicy).toBe('Retain');
      expect(r.UpdateReplacePolicy).not.toBe('Retain');
    }
    expect(aepPolicy(template).carrier.DeletionPolicy).toBe('Retain');
    const role = synth({ removalPolicy: RemovalPolicy.RETAIN, auth: S3DestinationAuth.assumedRole() }).template;
    expect(aepRole(role)[1].DeletionPolicy).toBe('Retain');
  });

  test('two destinations in a stack share one provider', () => {
    const stack = newStack();
    const sandbox = newSandbox(stack);
    const bucket = s3.Bucket.fromBucketName(stack, 'B', 'acme-aep-exports');
    new AepS3Destination(stack, 'A', { sandbox, bucket, folderPath: 'a' });
    new AepS3Destination(stack, 'B2', { sandbox, bucket, folderPath: 'b', auth: S3DestinationAuth.assumedRole() });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::Lambda::Function', 2); // onEvent + the Provider framework function
    t.resourceCountIs(ResourceTypes.DESTINATION_CONNECTION, 2);
    t.resourceCountIs(ResourceTypes.CONNECTION, 0);
    t.resourceCountIs(ResourceTypes.TARGET_CONNECTION, 0);
  });
});
