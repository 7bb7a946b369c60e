import { DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { CloudFormationSimulator, SynthesizedStack } from '../../offline-world/cloudformation/simulator';
import { SCENARIO_ENV, ScenarioWorld } from '../../offline-world/scenario';
import { AepS3Destination, S3DestinationAuth } from '../../src';
import { OWNED_SECRET_OWNER_TAG } from '../../src/private/owned-secret';

/**
 * ONE synthesized template deployed under two stack names in one account and region (per-tenant
 * copies, `--stack-name`, Service Catalog): each copy's handler reads the secrets its own
 * deployment made, and nothing else under the prefix. Real policy evaluation: the AWS stand-in
 * asks the CloudFormation simulator, which runs @cloud-copilot/iam-simulate on the live policies
 * with the secret's tags as `aws:ResourceTag/<key>`.
 */

const { account, region } = SCENARIO_ENV;
let world: ScenarioWorld;
let template: SynthesizedStack;
let tenantA: CloudFormationSimulator;
let tenantB: CloudFormationSimulator;

const secretArn = (name: string) => `arn:aws:secretsmanager:${region}:${account}:secret:${name}`;
/** `cdk-aep-s3/<name>/`, read off a secret the library made in `sim`'s stack (what the grant covers). */
const prefixOf = (sim: CloudFormationSimulator) => ownedSecrets(sim)[0].split(':secret:')[1].replace(/[^/]+$/, '');

/** A Secrets Manager client signed as the handler role of `sim`'s stack. */
function asHandlerOf(sim: CloudFormationSimulator): SecretsManagerClient {
  const role = sim.resources().find((r) => r.type === 'AWS::IAM::Role' && r.logicalId.startsWith('CdkAepS3ProviderHandlerRole'))!;
  const credentials = world.aws.registerRoleSession({ roleArn: `arn:aws:iam::${account}:role/${role.physicalId}`, sessionName: 'probe' });
  return new SecretsManagerClient({ region, credentials, maxAttempts: 1 });
}

/** The physical ARNs of the secrets the library made in `sim`'s stack. */
function ownedSecrets(sim: CloudFormationSimulator): string[] {
  return sim.resources().filter((r) => r.type === 'AWS::SecretsManager::Secret').map((r) => r.physicalId).sort();
}

async function outcome(client: SecretsManagerClient, command: GetSecretValueCommand | DescribeSecretCommand): Promise<string> {
  try {
    await client.send(command as GetSecretValueCommand);
    return 'allowed';
  } catch (err) {
    return (err as Error).name;
  }
}
const read = (client: SecretsManagerClient, arn: string) => outcome(client, new GetSecretValueCommand({ SecretId: arn }));

beforeAll(async () => {
  world = await ScenarioWorld.start('Tenant');
  template = world.synth(({ stack, sandbox }) => {
    const sb = sandbox();
    const bucket = new s3.Bucket(stack, 'Bucket');
    new AepS3Destination(stack, 'Keyed', { sandbox: sb, bucket, folderPath: 'keyed' });
    new AepS3Destination(stack, 'Role', { sandbox: sb, bucket, folderPath: 'role', auth: S3DestinationAuth.assumedRole() });
  });
  const sim = (name: string) => new CloudFormationSimulator(name, {
    aws: world.aws, account, region, logSink: world.logs, containers: 'cold', keyPropagationFailures: 0,
  });
  tenantA = sim('TenantA');
  tenantB = sim('TenantB');
  // Each Create reads its own access-key and role secrets through the prefix statement.
  await tenantA.create(template);
  await tenantB.create(template);
}, 120_000);

afterAll(async () => {
  await tenantA?.destroy();
  await tenantB?.destroy();
  await world?.close();
});

test('each copy names its secrets under its own deployed name and tags them with its own stack id', () => {
  expect(tenantA.stackId).not.toEqual(tenantB.stackId);
  for (const [sim, name] of [[tenantA, 'TenantA'], [tenantB, 'TenantB']] as const) {
    const arns = ownedSecrets(sim);
    expect(arns).toHaveLength(2);
    for (const arn of arns) {
      expect(arn).toMatch(new RegExp(`:secret:cdk-aep-s3/${name}/`));
      expect(world.aws.secretTags(arn)).toEqual({ [OWNED_SECRET_OWNER_TAG]: sim.stackId });
    }
  }
});

test('both Creates read their own secrets: every AEP resource of both copies exists', () => {
  for (const sim of [tenantA, tenantB]) {
    expect(sim.status).toBe('CREATE_COMPLETE');
    expect(sim.invocations.filter((i) => i.error)).toEqual([]);
  }
});

test('each handler reads its own stack\'s secrets and is denied the other copy\'s', async () => {
  const a = asHandlerOf(tenantA);
  const b = asHandlerOf(tenantB);
  for (const arn of ownedSecrets(tenantA)) {
    expect(await read(a, arn)).toBe('allowed');
    expect(await read(b, arn)).toBe('AccessDeniedException');
  }
  for (const arn of ownedSecrets(tenantB)) {
    expect(await read(b, arn)).toBe('allowed');
    expect(await read(a, arn)).toBe('AccessDeniedException');
  }
});

test('a secret a person created under the prefix, without the tag, is denied', async () => {
  const arn = world.aws.putSecret(secretArn(`${prefixOf(tenantA)}Manual-Ab12Cd`), '{"note":"made by hand"}');
  expect(await read(asHandlerOf(tenantA), arn)).toBe('AccessDeniedException');
});

test('a secret under the prefix tagged for another stack id (a RETAIN of an earlier stack of this name) is denied; the own id is the control', async () => {
  const earlier = `arn:aws:cloudformation:${region}:${account}:stack/TenantA/00000000-0000-4000-8000-0000000000ff`;
  const left = world.aws.putSecret(secretArn(`${prefixOf(tenantA)}KeyedAuthAccessKeySecretOld-Ef34Gh`), '{"note":"retained"}');
  world.aws.tagSecret(left, { [OWNED_SECRET_OWNER_TAG]: earlier });
  const a = asHandlerOf(tenantA);
  expect(await read(a, left)).toBe('AccessDeniedException');
  world.aws.tagSecret(left, { [OWNED_SECRET_OWNER_TAG]: tenantB.stackId });
  expect(await read(a, left)).toBe('AccessDeniedException');
  world.aws.tagSecret(left, { [OWNED_SECRET_OWNER_TAG]: tenantA.stackId });
  expect(await read(a, left)).toBe('allowed');
});

test('DescribeSecret is denied, even on the handler\'s own secrets (it never calls it)', async () => {
  const a = asHandlerOf(tenantA);
  for (const arn of ownedSecrets(tenantA)) {
    expect(await outcome(a, new DescribeSecretCommand({ SecretId: arn }))).toBe('AccessDeniedException');
  }
});

describe('a stack deployed before the owner tag (literal prefix, no tag, unconditioned grant) upgrades in place', () => {
  let old: ScenarioWorld;
  afterAll(async () => {
    await old?.close();
  });

  /** What the previous library version synthesized: the stack name written into names and grant, no tag, DescribeSecret too. */
  const previousVersion = (stackName: string) => (synthesized: any): any => {
    const literal = (v: any): any => JSON.parse(JSON.stringify(v).replace(/"cdk-aep-s3\/",\{"Ref":"AWS::StackName"\},"\//g, `"cdk-aep-s3/${stackName}/","`)
      .replace(/:secret:cdk-aep-s3\/",\{"Ref":"AWS::StackName"\},"\//g, `:secret:cdk-aep-s3/${stackName}/","`));
    const t = literal(synthesized);
    for (const r of Object.values<any>(t.Resources)) {
      if (r.Type === 'AWS::SecretsManager::Secret') delete r.Properties.Tags;
      for (const p of r.Properties?.Policies ?? []) {
        if (p.PolicyName !== 'ReadOwnedSecrets') continue;
        for (const s of p.PolicyDocument.Statement) {
          delete s.Condition;
          s.Action = ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'];
        }
      }
    }
    return t;
  };

  test('the secrets are kept (same ARNs), get the tag, and stay readable by the handler; a key rotation after it works', async () => {
    old = await ScenarioWorld.start('Upgraded');
    const build = (serial: number) => ({ stack, sandbox }: Parameters<Parameters<ScenarioWorld['synth']>[0]>[0]) => {
      new AepS3Destination(stack, 'Keyed', { sandbox: sandbox(), bucket: new s3.Bucket(stack, 'Bucket'), folderPath: 'keyed', auth: S3DestinationAuth.accessKey({ serial }) });
    };
    const first = await old.deploy(build(1), 'create', previousVersion('Upgraded'));
    expect(first.status).toBe('CREATE_COMPLETE');
    // The transform did write the name in: no deploy-time stack name, no tag, no condition.
    expect(old.templates[old.templates.length - 1]).not.toMatch(/AWS::StackName|cdk-aep-s3:owner/);
    expect(old.templates[old.templates.length - 1]).toContain('cdk-aep-s3/Upgraded/');
    const before = ownedSecrets(old.sim);
    expect(before).toHaveLength(1);
    expect(old.aws.secretTags(before[0])).toEqual({});

    const upgrade = await old.deploy(build(1), 'upgrade');
    expect(upgrade.status).toBe('UPDATE_COMPLETE');
    expect(ownedSecrets(old.sim)).toEqual(before);
    expect(old.aws.secretTags(before[0])).toEqual({ [OWNED_SECRET_OWNER_TAG]: old.sim.stackId });
    const role = old.sim.resources().find((r) => r.type === 'AWS::IAM::Role' && r.logicalId.startsWith('CdkAepS3ProviderHandlerRole'))!;
    const credentials = old.aws.registerRoleSession({ roleArn: `arn:aws:iam::${account}:role/${role.physicalId}`, sessionName: 'probe' });
    const handlerClient = new SecretsManagerClient({ region, credentials, maxAttempts: 1 });
    expect(await read(handlerClient, before[0])).toBe('allowed');

    const rotated = await old.deploy(build(2), 'rotate');
    expect(rotated.status).toBe('UPDATE_COMPLETE');
    expect(ownedSecrets(old.sim)).not.toEqual(before);
    expect(await old.violations()).toEqual([]);
  }, 120_000);
});
