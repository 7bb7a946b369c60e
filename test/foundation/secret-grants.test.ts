import { App, Stack, Tags } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import '../destination/util'; // fails early when the handler bundle is missing
import { AepConnection, AepS3Destination, AepSandbox, S3DestinationAuth } from '../../src';
import { AepIds, ResourceTypes } from '../../src/private/contract';

/**
 * The handler reads secrets through one policy per distinct set of secrets, whose logical id
 * changes with the set and which every custom resource using it depends on (see
 * test/construct-lifecycle for the update/cleanup order this buys).
 */

interface Options { readonly creds?: string; readonly keyed?: boolean; readonly cmk?: boolean }

function synth(options: Options = {}): { template: any; stack: Stack } {
  const app = new App();
  const stack = new Stack(app, 'Grants', { env: { account: '111122223333', region: 'eu-west-1' } });
  const sandbox = new AepSandbox({ credentials: secretsmanager.Secret.fromSecretNameV2(stack, 'Creds', options.creds ?? 'aep/oauth'), imsOrgId: 'ACME01@AdobeOrg' });
  const key = options.cmk ? new kms.Key(stack, 'Cmk', { enableKeyRotation: true }) : undefined;
  const keys = new secretsmanager.Secret(stack, 'Keys', { encryptionKey: key });
  new AepConnection(stack, 'Keyed', {
    sandbox,
    connectionSpecId: AepIds.S3_DESTINATION_CONNECTION_SPEC,
    authSpecName: 'Access Key',
    authSecret: options.keyed === false ? undefined : keys,
    authSecretFields: options.keyed === false ? undefined : { s3AccessKey: 'accessKeyId', s3SecretKey: 'secretAccessKey' },
  });
  new AepConnection(stack, 'Plain', {
    sandbox,
    connectionSpecId: AepIds.S3_SOURCE_CONNECTION_SPEC,
    authSpecName: 'IAMRole Based',
    authParams: { bucketName: 'acme-inbound' },
  });
  return { template: Template.fromStack(stack).toJSON(), stack };
}

const resources = (t: any, type: string) => Object.entries<any>(t.Resources).filter(([, r]) => r.Type === type);
const secretReadPolicies = (t: any) => Object.fromEntries(resources(t, 'AWS::IAM::Policy').filter(([id]) => id.includes('SecretRead')));
const crByPath = (t: any, name: string) => resources(t, ResourceTypes.CONNECTION).find(([id]) => id.startsWith(name))!;
const grantOf = (t: any, name: string) => {
  const deps = (crByPath(t, name)[1].DependsOn ?? []).filter((d: string) => d.includes('SecretRead'));
  expect(deps).toHaveLength(1);
  return deps[0] as string;
};
const secretResources = (policy: any) => policy.Properties.PolicyDocument.Statement
  .filter((s: any) => [s.Action].flat().some((a: string) => a.startsWith('secretsmanager:')))
  .flatMap((s: any) => [s.Resource].flat());
const credsArn = (name: string) => ({
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:secretsmanager:eu-west-1:111122223333:secret:${name}-??????`]],
});

describe('secret-read policies', () => {
  const before = synth().template;

  test('one policy per distinct set of secrets, attached to the handler role, each CR depends on its own', () => {
    const policies = secretReadPolicies(before);
    expect(Object.keys(policies)).toHaveLength(2);
    const keyed = grantOf(before, 'Keyed');
    const plain = grantOf(before, 'Plain');
    expect(keyed).not.toEqual(plain);
    for (const p of Object.values<any>(policies)) {
      expect(p.Properties.Roles).toHaveLength(1);
      expect(p.Properties.Roles[0].Ref).toMatch(/^CdkAepS3ProviderHandlerRole[0-9A-F]{8}$/);
    }
  });

  test('the grants name exactly the secrets of each CR (partial ARN for a secret imported by name)', () => {
    const keysId = resources(before, 'AWS::SecretsManager::Secret')[0][0];
    expect(secretResources(before.Resources[grantOf(before, 'Keyed')])).toEqual([credsArn('aep/oauth'), { Ref: keysId }]);
    expect(secretResources(before.Resources[grantOf(before, 'Plain')])).toEqual([credsArn('aep/oauth')]);
    for (const p of Object.values<any>(secretReadPolicies(before))) {
      for (const s of p.Properties.PolicyDocument.Statement) {
        // GetSecretValue only: the handler never describes a secret.
        expect([s.Action].flat()).toEqual(['secretsmanager:GetSecretValue']);
      }
    }
  });

  test('the shared role default policy grants no secret', () => {
    const defaults = resources(before, 'AWS::IAM::Policy').filter(([id]) => id.includes('HandlerRoleDefaultPolicy'));
    expect(defaults).toHaveLength(1);
    expect(JSON.stringify(defaults[0][1].Properties.PolicyDocument)).not.toMatch(/secretsmanager|kms:/);
  });

  test('a new credentials secret: NEW policy logical ids, the CRs depend on them, the old ids are gone', () => {
    const after = synth({ creds: 'aep/oauth-v2' }).template;
    for (const name of ['Keyed', 'Plain']) {
      const oldId = grantOf(before, name);
      const newId = grantOf(after, name);
      expect(newId).not.toEqual(oldId);
      expect(after.Resources[oldId]).toBeUndefined();
      expect(secretResources(after.Resources[newId])).toContainEqual(credsArn('aep/oauth-v2'));
      expect(JSON.stringify(after.Resources[newId])).not.toContain('aep/oauth-??????');
    }
  });

  test('an unchanged set keeps its logical id (no churn), a changed set of one CR moves only that CR', () => {
    expect(grantOf(synth().template, 'Keyed')).toEqual(grantOf(before, 'Keyed'));
    const unkeyed = synth({ keyed: false }).template;
    // Keyed now reads only the credential: it shares Plain's policy, and its old one is gone.
    expect(grantOf(unkeyed, 'Keyed')).toEqual(grantOf(before, 'Plain'));
    expect(unkeyed.Resources[grantOf(before, 'Keyed')]).toBeUndefined();
    expect(Object.keys(secretReadPolicies(unkeyed))).toHaveLength(1);
  });

  test('a CMK-encrypted secret: kms:Decrypt through Secrets Manager in the same policy, nothing in the key policy', () => {
    const { template } = synth({ cmk: true });
    const [keyId, key] = resources(template, 'AWS::KMS::Key')[0];
    const statements = template.Resources[grantOf(template, 'Keyed')].Properties.PolicyDocument.Statement;
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: { 'Fn::GetAtt': [keyId, 'Arn'] },
      Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' } },
    });
    expect(JSON.stringify(key.Properties.KeyPolicy)).not.toContain('HandlerRole');
    expect(JSON.stringify(template.Resources[grantOf(template, 'Plain')])).not.toContain('kms:');
  });

  test('synthesis stays deterministic', () => {
    expect(JSON.stringify(synth({ cmk: true }).template)).toEqual(JSON.stringify(synth({ cmk: true }).template));
  });
});

describe('secrets the library creates: one constant prefix grant per stack', () => {
  function stackWith(app: App, id: string, build: (stack: Stack, sandbox: AepSandbox) => void): Stack {
    const stack = new Stack(app, id, { env: { account: '111122223333', region: 'eu-west-1' } });
    build(stack, new AepSandbox({ credentials: secretsmanager.Secret.fromSecretNameV2(stack, 'Creds', 'aep/oauth'), imsOrgId: 'ACME01@AdobeOrg' }));
    return stack;
  }
  const bucketOf = (stack: Stack) => (stack.node.tryFindChild('Bucket') as s3.IBucket | undefined) ?? s3.Bucket.fromBucketName(stack, 'Bucket', 'acme-exports');
  // The DEPLOYED stack's name, resolved by CloudFormation: never the name written at synth.
  const prefixArn = {
    'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':secretsmanager:eu-west-1:111122223333:secret:cdk-aep-s3/', { Ref: 'AWS::StackName' }, '/*']],
  };
  const handlerRole = (t: any) => resources(t, 'AWS::IAM::Role').find(([id]) => /^CdkAepS3ProviderHandlerRole[0-9A-F]{8}$/.test(id))!;

  const app = new App();
  const stack = stackWith(app, 'Exports', (s, sandbox) => {
    new AepS3Destination(s, 'Keyed', { sandbox, bucket: bucketOf(s), folderPath: 'a' });
    new AepS3Destination(s, 'Role', { sandbox, bucket: bucketOf(s), folderPath: 'b', auth: S3DestinationAuth.assumedRole() });
  });
  const template = Template.fromStack(stack).toJSON();

  test('each library secret is named under cdk-aep-s3/<deployed stack name>/, deterministically and uniquely, and tagged with the stack id', () => {
    const secrets = resources(template, 'AWS::SecretsManager::Secret');
    const names = secrets.map(([, r]) => r.Properties.Name);
    expect(names).toHaveLength(2);
    // `cdk-aep-s3/<Ref AWS::StackName>/<logical id>-` + a deploy-time id of what the secret holds
    // (the access key id, the role's unique id: never the confidential role name).
    for (const [id, secret] of secrets) {
      const parts = secret.Properties.Name['Fn::Join'][1];
      expect(parts.slice(0, 3)).toEqual(['cdk-aep-s3/', { Ref: 'AWS::StackName' }, `/${id}-`]);
      expect([{ Ref: expect.stringMatching(/AccessKey/) }, { 'Fn::GetAtt': [expect.stringMatching(/Role/), 'RoleId'] }]).toContainEqual(parts[3]);
      expect(JSON.stringify(secret.Properties.Name)).not.toContain('Exports');
      expect(secret.Properties.Tags).toEqual([{ Key: 'cdk-aep-s3:owner', Value: { Ref: 'AWS::StackId' } }]);
    }
    expect(new Set(names).size).toBe(2);
    expect(names).toEqual(resources(Template.fromStack(stackWith(new App(), 'Exports', (s, sandbox) => {
      new AepS3Destination(s, 'Keyed', { sandbox, bucket: bucketOf(s), folderPath: 'a' });
      new AepS3Destination(s, 'Role', { sandbox, bucket: bucketOf(s), folderPath: 'b', auth: S3DestinationAuth.assumedRole() });
    })).toJSON(), 'AWS::SecretsManager::Secret').map(([, r]) => r.Properties.Name));
  });

  test('the handler role reads them through one inline statement on the prefix, and no per-connection policy names them', () => {
    const [, role] = handlerRole(template);
    expect(role.Properties.Policies).toEqual([{
      PolicyName: 'ReadOwnedSecrets',
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [{
          Sid: 'ReadOwnedSecrets',
          Effect: 'Allow',
          Action: 'secretsmanager:GetSecretValue',
          Resource: prefixArn,
          // Only secrets this deployment made (see test/lifecycle/deployed-copies.test.ts).
          Condition: { StringEquals: { 'aws:ResourceTag/cdk-aep-s3:owner': { Ref: 'AWS::StackId' } } },
        }],
      },
    }]);
    // One shared policy for the imported sandbox credential; nothing per destination.
    const policies = secretReadPolicies(template);
    expect(Object.keys(policies)).toHaveLength(1);
    expect(secretResources(Object.values<any>(policies)[0])).toEqual([credsArn('aep/oauth')]);
    const secretIds = resources(template, 'AWS::SecretsManager::Secret').map(([id]) => id);
    for (const [, p] of resources(template, 'AWS::IAM::Policy')) {
      for (const id of secretIds) expect(JSON.stringify(p)).not.toContain(`"${id}"`);
    }
  });

  test('a user Tags.of() cannot replace or remove the owner tag the grant depends on', () => {
    const app2 = new App();
    const tagged = stackWith(app2, 'Tagged', (s, sandbox) => {
      new AepS3Destination(s, 'Keyed', { sandbox, bucket: bucketOf(s), folderPath: 'a' });
    });
    Tags.of(tagged).add('cdk-aep-s3:owner', 'someone-else');
    Tags.of(tagged).remove('cdk-aep-s3:owner');
    const [[, secret]] = resources(Template.fromStack(tagged).toJSON(), 'AWS::SecretsManager::Secret');
    expect(secret.Properties.Tags).toEqual([{ Key: 'cdk-aep-s3:owner', Value: { Ref: 'AWS::StackId' } }]);
  });

  test('a library secret used by a connection of ANOTHER stack is granted there by a per-set policy', () => {
    const app2 = new App();
    let secret: secretsmanager.ISecret | undefined;
    stackWith(app2, 'Owner', (s, sandbox) => {
      secret = new AepS3Destination(s, 'Keyed', { sandbox, bucket: bucketOf(s), folderPath: 'a' }).credentialsSecret;
    });
    const user = stackWith(app2, 'User', (s, sandbox) => {
      new AepConnection(s, 'Reuse', {
        sandbox,
        connectionSpecId: AepIds.S3_DESTINATION_CONNECTION_SPEC,
        authSpecName: 'Access Key',
        authSecret: secret,
        authSecretFields: { s3AccessKey: 'accessKeyId', s3SecretKey: 'secretAccessKey' },
      });
    });
    const t = Template.fromStack(user).toJSON();
    const granted = secretResources(t.Resources[grantOf(t, 'Reuse')]);
    expect(granted).toHaveLength(2);
    expect(JSON.stringify(granted[1])).toContain('ExportsOutput'); // the owner stack's exported ARN
  });
});

describe('a credentials secret made in the stack', () => {
  /** A connection whose sandbox credential is a secret of the stack, named `name` (unnamed when undefined). */
  function withStackSecret(name: string | undefined): any {
    const app = new App();
    const stack = new Stack(app, 'Grants', { env: { account: '111122223333', region: 'eu-west-1' } });
    const credentials = new secretsmanager.Secret(stack, 'Creds', { secretName: name });
    new AepConnection(stack, 'Plain', {
      sandbox: new AepSandbox({ credentials, imsOrgId: 'ACME01@AdobeOrg' }),
      connectionSpecId: AepIds.S3_SOURCE_CONNECTION_SPEC,
      authSpecName: 'IAMRole Based',
      authParams: { bucketName: 'acme-inbound' },
    });
    return Template.fromStack(stack).toJSON();
  }

  test('a new Name (CloudFormation replaces the secret behind the same Ref) gives a new read policy, so the old one outlives the old resource\'s cleanup Delete', () => {
    const v1 = grantOf(withStackSecret('acme/aep-v1'), 'Plain');
    const v2 = grantOf(withStackSecret('acme/aep-v2'), 'Plain');
    expect(v2).not.toBe(v1);
    expect(grantOf(withStackSecret('acme/aep-v1'), 'Plain')).toBe(v1);
    // The same secret under the same name keeps its policy, as does an unnamed one.
    expect(grantOf(withStackSecret(undefined), 'Plain')).toBe(grantOf(withStackSecret(undefined), 'Plain'));
  });
});
