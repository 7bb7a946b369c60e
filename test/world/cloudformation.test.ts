import * as fs from 'fs';
import * as path from 'path';
import {
  CloudFormationSimulator, CREATE_FAILED_PHYSICAL_ID_MARKER, InvocationRecord, StackOperationError, SynthesizedStack,
} from '../../offline-world/cloudformation/simulator';
import { AwsStandIn } from '../../offline-world/stand-in/aws';

/**
 * The offline CloudFormation simulator against small hand-written templates and a tiny fake
 * handler bundle: rollback, cleanup, the Provider framework's own answers, Lambda timeouts and
 * IAM evaluation against the policies live at each moment of a deployment.
 */

const STACK = 'World';
const ACCOUNT = '111122223333';
const HANDLER_HASH = 'a'.repeat(64);
const FRAMEWORK_HASH = 'b'.repeat(64);

/**
 * The fake user onEvent handler. Behaviour comes from its ResourceProperties:
 * `Fail` (comma-separated request types to fail), `Replace` (Update returns `<id>-<Version>`),
 * `SleepMs`, `ReadSecret` (GetSecretValue with the function's role), `ChangeIdOnDelete`.
 */
const HANDLER_JS = `
const { SecretsManagerClient, GetSecretValueCommand } = require('@aws-sdk/client-secrets-manager');
let client;
const instance = Math.random().toString(36).slice(2);
exports.handler = async (event, context) => {
  const p = event.ResourceProperties;
  globalThis.__worldLog.push({ type: event.RequestType, id: event.LogicalResourceId, physicalId: event.PhysicalResourceId,
    version: p.Version, remaining: context.getRemainingTimeInMillis(), instance, fn: process.env.AWS_LAMBDA_FUNCTION_NAME, at: Date.now() });
  const entry = globalThis.__worldLog[globalThis.__worldLog.length - 1];
  if (p.SleepMs) await new Promise((r) => setTimeout(r, Number(p.SleepMs)));
  entry.fnAfter = process.env.AWS_LAMBDA_FUNCTION_NAME;
  if (p.ReadSecret && event.RequestType !== 'Delete') {
    client = client || new SecretsManagerClient({});
    await client.send(new GetSecretValueCommand({ SecretId: p.ReadSecret }));
  }
  if (String(p.Fail || '').split(',').includes(event.RequestType)) throw new Error('injected ' + event.RequestType + ' failure');
  const version = p.Version || 'v1';
  if (event.RequestType === 'Create') return { PhysicalResourceId: event.LogicalResourceId + '-' + version, Data: { Echo: version } };
  if (event.RequestType === 'Update') {
    return { PhysicalResourceId: p.Replace ? event.LogicalResourceId + '-' + version : event.PhysicalResourceId, Data: { Echo: version } };
  }
  return p.ChangeIdOnDelete ? { PhysicalResourceId: 'something-else' } : {};
};
`;

interface LogEntry {
  type: string; id: string; physicalId?: string; version?: string; remaining: number; instance: string; fn: string; fnAfter?: string; at: number;
}
const log = (): LogEntry[] => (globalThis as any).__worldLog;

let aws: AwsStandIn;
let baseDir: string;
let savedEnv: NodeJS.ProcessEnv;
let n = 0;

beforeAll(async () => {
  aws = await AwsStandIn.start({ region: 'us-east-1' });
  savedEnv = { ...process.env };
  Object.assign(process.env, aws.env());
  // Inside the repo (git-ignored) so the fake bundle resolves @aws-sdk/* from node_modules.
  const demo = path.resolve(__dirname, '../../.demo');
  fs.mkdirSync(demo, { recursive: true });
  baseDir = fs.mkdtempSync(path.join(demo, 'world-cfn-'));
});

afterAll(async () => {
  for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
  Object.assign(process.env, savedEnv);
  await aws?.close();
  if (baseDir) fs.rmSync(baseDir, { recursive: true, force: true });
});

beforeEach(() => {
  (globalThis as any).__worldLog = [];
});

/** Writes a cloud assembly holding `resources` and the fake handler asset. */
function stack(resources: Record<string, any>): SynthesizedStack {
  const dir = path.join(baseDir, `asm-${++n}`);
  fs.mkdirSync(path.join(dir, `asset.${HANDLER_HASH}`), { recursive: true });
  fs.writeFileSync(path.join(dir, `asset.${HANDLER_HASH}`, 'index.js'), HANDLER_JS);
  const manifest = { version: '36.0.0', files: { [HANDLER_HASH]: { source: { path: `asset.${HANDLER_HASH}`, packaging: 'zip' } } } };
  fs.writeFileSync(path.join(dir, `${STACK}.assets.json`), JSON.stringify(manifest));
  return { stackName: STACK, template: { Resources: resources }, assemblyDir: dir };
}

const TRUST = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] };

/** A Provider: user function (+ role) behind an aws-cdk-lib framework function. */
function provider(prefix = '', options: { timeout?: number; rolePolicies?: any[] } = {}): Record<string, any> {
  return {
    [`${prefix}HandlerRole`]: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: TRUST, ...(options.rolePolicies ? { Policies: options.rolePolicies } : {}) } },
    [`${prefix}Handler`]: {
      Type: 'AWS::Lambda::Function',
      Properties: {
        Code: { S3Bucket: 'cdk-assets', S3Key: `${HANDLER_HASH}.zip` },
        Handler: 'index.handler',
        Runtime: 'nodejs20.x',
        Role: { 'Fn::GetAtt': [`${prefix}HandlerRole`, 'Arn'] },
        Timeout: options.timeout ?? 30,
      },
    },
    [`${prefix}FrameworkRole`]: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: TRUST } },
    [`${prefix}Framework`]: {
      Type: 'AWS::Lambda::Function',
      Properties: {
        Code: { S3Bucket: 'cdk-assets', S3Key: `${FRAMEWORK_HASH}.zip` },
        Handler: 'framework.onEvent',
        Runtime: 'nodejs20.x',
        Timeout: 900,
        Role: { 'Fn::GetAtt': [`${prefix}FrameworkRole`, 'Arn'] },
        Environment: { Variables: { USER_ON_EVENT_FUNCTION_ARN: { 'Fn::GetAtt': [`${prefix}Handler`, 'Arn'] } } },
      },
    },
  };
}

/** A custom resource of the fake provider. */
function cr(props: Record<string, any>, dependsOn?: string[], prefix = ''): any {
  return { Type: 'Custom::Thing', Properties: { ServiceToken: { 'Fn::GetAtt': [`${prefix}Framework`, 'Arn'] }, ...props }, ...(dependsOn ? { DependsOn: dependsOn } : {}) };
}

type SimulatorKnobs = { timeScale?: number; parallel?: boolean; iamPropagationMs?: number; nativeOperationMs?: number; startJitterMs?: number };
function simulator(options: SimulatorKnobs = {}): CloudFormationSimulator {
  return new CloudFormationSimulator(STACK, { aws, account: ACCOUNT, region: 'us-east-1', keyPropagationFailures: 0, ...options });
}

/** Custom-resource requests of a phase: `<RequestType> <logicalId> <physicalId sent>`. */
function requests(sim: CloudFormationSimulator, phase: string): string[] {
  return sim.invocations.filter((i) => i.phase === phase).map((i) => `${i.requestType} ${i.logicalId} ${i.request?.PhysicalResourceId ?? '-'}`);
}

const find = (sim: CloudFormationSimulator, phase: string, type: string, id: string): InvocationRecord =>
  sim.invocations.find((i) => i.phase === phase && i.requestType === type && i.logicalId === id)!;

describe('create', () => {
  test('a failed Create rolls back in reverse order; the framework answers the marker Delete itself', async () => {
    const sim = simulator();
    const result = await sim.deploy(stack({
      ...provider(),
      A: cr({ Version: 'v1' }),
      B: cr({ Version: 'v1', Up: { Ref: 'A' } }),
      C: cr({ Version: 'v1', Fail: 'Create', Up: { 'Fn::GetAtt': ['B', 'Echo'] } }),
    }));
    expect(result.status).toBe('ROLLBACK_COMPLETE');
    expect(result.failure).toMatch(/^C: injected Create failure\n\nLogs: \/aws\/lambda\//);
    expect(requests(sim, 'create')).toEqual(['Create A -', 'Create B -', 'Create C -']);
    expect(requests(sim, 'create-rollback')).toEqual([`Delete C ${CREATE_FAILED_PHYSICAL_ID_MARKER}`, 'Delete B B-v1', 'Delete A A-v1']);
    expect(find(sim, 'create-rollback', 'Delete', 'C').answeredByFramework).toBe(true);
    // The user handler never saw the marker Delete.
    expect(log().filter((e) => e.type === 'Delete').map((e) => e.id)).toEqual(['B', 'A']);
    expect(sim.resources().filter((r) => r.type === 'Custom::Thing')).toEqual([]);
    expect(result.events.map((e) => `${e.logicalId} ${e.status}`)).toEqual(expect.arrayContaining(['C CREATE_FAILED', 'A DELETE_COMPLETE', `${STACK} ROLLBACK_COMPLETE`]));
  });

  test('create() throws the result; a failing rollback Delete ends ROLLBACK_FAILED and keeps the resource', async () => {
    const sim = simulator();
    const error = await sim.create(stack({ ...provider(), A: cr({ Fail: 'Delete' }), B: cr({ Fail: 'Create' }, ['A']) })).catch((e) => e);
    expect(error).toBeInstanceOf(StackOperationError);
    expect((error as StackOperationError).result.status).toBe('ROLLBACK_FAILED');
    expect(sim.status).toBe('ROLLBACK_FAILED');
    expect(sim.resources().filter((r) => r.type === 'Custom::Thing')).toEqual([{ logicalId: 'A', type: 'Custom::Thing', physicalId: 'A-v1' }]);
  });

  test('a GetAtt on a key the provider Data lacks fails like CloudFormation', async () => {
    const sim = simulator();
    const result = await sim.deploy(stack({ ...provider(), A: cr({}), B: cr({ Up: { 'Fn::GetAtt': ['A', 'Missing'] } }) }));
    expect(result.status).toBe('ROLLBACK_COMPLETE');
    expect(result.failure).toContain("Vendor response doesn't contain Missing key");
  });
});

describe('update', () => {
  const v1 = () => stack({ ...provider(), A: cr({ Version: 'v1' }), B: cr({ Version: 'v1', Replace: 'yes' }, ['A']) });

  test('a later failure rolls back updated resources with OLD properties and deletes what the update made', async () => {
    const sim = simulator();
    await sim.create(v1());
    const result = await sim.deploy(stack({
      ...provider(),
      A: cr({ Version: 'v2' }),
      B: cr({ Version: 'v2', Replace: 'yes' }, ['A']),
      C: cr({ Version: 'v2' }, ['B']),
      D: cr({ Version: 'v2', Fail: 'Create' }, ['C']),
    }));
    expect(result.status).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(requests(sim, 'update')).toEqual(['Update A A-v1', 'Update B B-v1', 'Create C -', 'Create D -']);
    // B was replaced (B-v1 → B-v2): the rollback Update goes to B-v2 with the old properties...
    expect(requests(sim, 'update-rollback')).toEqual(['Update B B-v2', 'Update A A-v1']);
    const rollbackB = find(sim, 'update-rollback', 'Update', 'B');
    expect(rollbackB.request!.ResourceProperties.Version).toBe('v1');
    expect(rollbackB.request!.OldResourceProperties.Version).toBe('v2');
    expect(find(sim, 'update-rollback', 'Update', 'A').request!.ResourceProperties.Version).toBe('v1');
    // ...and since it answered B-v1, B-v2 is deleted (with its v2 properties) in the rollback cleanup, after C and D.
    expect(requests(sim, 'update-rollback-cleanup')).toEqual([`Delete D ${CREATE_FAILED_PHYSICAL_ID_MARKER}`, 'Delete C C-v2', 'Delete B B-v2']);
    expect(find(sim, 'update-rollback-cleanup', 'Delete', 'B').request!.ResourceProperties.Version).toBe('v2');
    expect(sim.resources().filter((r) => r.type === 'Custom::Thing').map((r) => r.physicalId).sort()).toEqual(['A-v1', 'B-v1']);
    expect(sim.resource('B')!.properties.Version).toBe('v1');
    expect(Object.keys(sim.currentTemplate().Resources)).not.toContain('C');
    expect(sim.leftBehind).toEqual([]);
    await expect(sim.update(v1())).resolves.toMatchObject({ status: 'UPDATE_COMPLETE' });
  });

  test('a resource whose own Update failed gets Update(old properties) with its physical id', async () => {
    const sim = simulator();
    await sim.create(v1());
    const error = await sim.update(stack({ ...provider(), A: cr({ Version: 'v2', Fail: 'Update' }), B: cr({ Version: 'v1', Replace: 'yes' }, ['A']) })).catch((e) => e);
    expect((error as StackOperationError).result.status).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(requests(sim, 'update')).toEqual(['Update A A-v1']);
    const rollback = find(sim, 'update-rollback', 'Update', 'A');
    expect(rollback.request).toEqual({
      PhysicalResourceId: 'A-v1',
      ResourceProperties: expect.objectContaining({ Version: 'v1' }),
      OldResourceProperties: expect.objectContaining({ Version: 'v2', Fail: 'Update' }),
    });
    expect(sim.status).toBe('UPDATE_ROLLBACK_COMPLETE');
  });

  test('a rollback Update that fails ends UPDATE_ROLLBACK_FAILED', async () => {
    const sim = simulator();
    await sim.create(stack({ ...provider(), A: cr({ Version: 'v1', Fail: 'Update' }) }));
    // Forward: A's new properties no longer fail; B fails; rolling A back to v1 fails.
    const result = await sim.deploy(stack({ ...provider(), A: cr({ Version: 'v2' }), B: cr({ Fail: 'Create' }, ['A']) }));
    expect(result.status).toBe('UPDATE_ROLLBACK_FAILED');
    expect(requests(sim, 'update-rollback')).toEqual(['Update A A-v1']);
  });

  test('a replacement deletes the OLD physical id with the OLD properties after success; removed resources in old reverse order', async () => {
    const sim = simulator();
    await sim.create(stack({ ...provider(), R: cr({ Version: 'v1' }), B: cr({ Version: 'v1', Replace: 'yes', Up: { Ref: 'R' } }) }));
    const result = await sim.update(stack({ ...provider(), B: cr({ Version: 'v2', Replace: 'yes' }) }));
    expect(result.status).toBe('UPDATE_COMPLETE');
    expect(requests(sim, 'update')).toEqual(['Update B B-v1']);
    // B depended on R in the old template: B's old resource goes first.
    expect(requests(sim, 'update-cleanup')).toEqual(['Delete B B-v1', 'Delete R R-v1']);
    expect(find(sim, 'update-cleanup', 'Delete', 'B').request!.ResourceProperties).toEqual(expect.objectContaining({ Version: 'v1', Up: 'R-v1' }));
    expect(sim.resource('B')!.physicalId).toBe('B-v2');
  });

  test('a cleanup failure leaves UPDATE_COMPLETE but is reported', async () => {
    const sim = simulator();
    await sim.create(stack({ ...provider(), B: cr({ Version: 'v1', Replace: 'yes', Fail: 'Delete' }) }));
    const result = await sim.update(stack({ ...provider(), B: cr({ Version: 'v2', Replace: 'yes' }) }));
    expect(result.status).toBe('UPDATE_COMPLETE');
    expect(sim.leftBehind).toEqual([{ logicalId: 'B', physicalId: 'B-v1', type: 'Custom::Thing', phase: 'update-cleanup', error: expect.stringContaining('injected Delete failure') }]);
  });
});

describe('delete', () => {
  test('the framework refuses a Delete that changes the physical id (DELETE_FAILED, resource kept)', async () => {
    const sim = simulator();
    await sim.create(stack({ ...provider(), A: cr({ ChangeIdOnDelete: 'yes' }), B: cr({}, ['A']) }));
    const result = await sim.destroy();
    expect(result.status).toBe('DELETE_FAILED');
    expect(result.failure).toContain('DELETE: cannot change the physical resource ID from "A-v1" to "something-else" during deletion');
    expect(requests(sim, 'delete')).toEqual(['Delete B B-v1', 'Delete A A-v1']);
    expect(sim.resources().map((r) => r.logicalId)).toContain('A');
    // What A depends on (the provider) is kept too.
    expect(sim.resources().map((r) => r.logicalId)).toContain('Framework');
  });
});

describe('Lambda and timeouts', () => {
  test('the function Timeout bounds each invocation (scaled), with no re-invoke', async () => {
    const sim = simulator({ timeScale: 0.02 }); // Timeout 5 s → 100 ms
    const result = await sim.deploy(stack({ ...provider('', { timeout: 5 }), A: cr({ SleepMs: 400 }) }));
    expect(result.status).toBe('ROLLBACK_COMPLETE');
    expect(result.failure).toMatch(/^A: RequestId: \S+ Error: Task timed out after 5\.00 seconds/);
    const creates = log().filter((e) => e.type === 'Create');
    expect(creates).toHaveLength(1);
    expect(creates[0].remaining).toBeLessThanOrEqual(100);
    expect(creates[0].remaining).toBeGreaterThan(50);
    await new Promise((r) => setTimeout(r, 400));
  });

  test('ServiceTimeout bounds the whole custom-resource operation', async () => {
    const sim = simulator({ timeScale: 0.001 }); // ServiceTimeout 60 s → 60 ms; function Timeout 900 s → 900 ms
    const result = await sim.deploy(stack({ ...provider('', { timeout: 900 }), A: cr({ SleepMs: 300, ServiceTimeout: '60' }) }));
    expect(result.status).toBe('ROLLBACK_COMPLETE');
    expect(result.failure).toMatch(/^A: CloudFormation did not receive a response from your Custom Resource/);
    // No physical id came back, so the rollback sends no Delete.
    expect(requests(sim, 'create-rollback')).toEqual([]);
    await new Promise((r) => setTimeout(r, 400));
  });

  test('each function runs in its own module instance; a function keeps its warm instance, and scales out when busy', async () => {
    const sim = simulator();
    // B runs after A (DependsOn): A's container is idle again. D runs alongside A: a second container.
    await sim.create(stack({ ...provider(), ...provider('Other'), A: cr({ SleepMs: 50 }), B: cr({}, ['A']), C: cr({}, undefined, 'Other'), D: cr({ SleepMs: 50 }) }));
    const byId = Object.fromEntries(log().map((e) => [e.id, e]));
    expect(byId.A.instance).toBe(byId.B.instance);
    expect(byId.D.instance).not.toBe(byId.A.instance);
    expect(byId.C.instance).not.toBe(byId.A.instance);
    expect(byId.C.fn).not.toBe(byId.A.fn);
  });
});

describe('IAM', () => {
  const secret = { Type: 'AWS::SecretsManager::Secret', Properties: { SecretString: '{"k":"not-a-real-value"}' } };
  const grant = {
    Type: 'AWS::IAM::Policy',
    Properties: {
      PolicyName: 'ReadSecret',
      Roles: [{ Ref: 'HandlerRole' }],
      PolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: { Ref: 'S' } }] },
    },
  };

  test('calls are decided by the policies live at that moment of the deployment', async () => {
    const sim = simulator();
    // 1. No policy: denied, in AWS's words.
    const first = await sim.deploy(stack({ ...provider(), S: secret, A: cr({ Version: 'v1', ReadSecret: { Ref: 'S' } }) }));
    expect(first.status).toBe('ROLLBACK_COMPLETE');
    expect(first.failure).toMatch(new RegExp(
      `User: arn:aws:sts::${ACCOUNT}:assumed-role/World-HandlerRole-SIM\\d+/World-Handler-SIM\\d+ is not authorized to perform: `
      + `secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:S-\\w{6} `
      + 'because no identity-based policy allows the secretsmanager:GetSecretValue action'));
    await sim.destroy();

    // 2. The policy exists before the resource (DependsOn): allowed.
    const sim2 = simulator();
    await sim2.create(stack({ ...provider(), S: secret, P: grant, A: cr({ Version: 'v1', ReadSecret: { Ref: 'S' } }, ['P']) }));
    // 3. Removing the policy: the update itself still runs with it (removal happens in cleanup)...
    await sim2.update(stack({ ...provider(), S: secret, A: cr({ Version: 'v2', ReadSecret: { Ref: 'S' } }) }));
    expect(sim2.resources().map((r) => r.logicalId)).not.toContain('P');
    // ...the next one is denied, and so is its rollback Update (the old properties read the secret
    // too): the stack is stuck in UPDATE_ROLLBACK_FAILED, as it would be on AWS.
    const fourth = await sim2.deploy(stack({ ...provider(), S: secret, A: cr({ Version: 'v3', ReadSecret: { Ref: 'S' } }) }));
    expect(fourth.status).toBe('UPDATE_ROLLBACK_FAILED');
    expect(fourth.failure).toContain('is not authorized to perform: secretsmanager:GetSecretValue');
    expect(requests(sim2, 'update-rollback')).toEqual(['Update A A-v1']);
    expect(find(sim2, 'update-rollback', 'Update', 'A').error).toContain('is not authorized to perform');
    await expect(sim2.update(stack({ ...provider(), S: secret }))).rejects.toThrow(/UPDATE_ROLLBACK_FAILED and cannot be updated/);

    // 4. An inline role policy counts as well.
    const sim3 = simulator();
    const inline = [{ PolicyName: 'inline', PolicyDocument: grant.Properties.PolicyDocument }];
    const fifth = await sim3.deploy(stack({ ...provider('', { rolePolicies: inline }), S: secret, A: cr({ ReadSecret: { Ref: 'S' } }, ['HandlerRole']) }));
    expect(fifth.status).toBe('CREATE_COMPLETE');
  });

  test('a resource policy with an explicit deny wins', async () => {
    const sim = simulator();
    const deny = {
      Type: 'AWS::SecretsManager::ResourcePolicy',
      Properties: {
        SecretId: { Ref: 'S' },
        ResourcePolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: { AWS: '*' }, Action: 'secretsmanager:GetSecretValue', Resource: '*' }] },
      },
    };
    const result = await sim.deploy(stack({ ...provider(), S: secret, P: grant, D: deny, A: cr({ ReadSecret: { Ref: 'S' } }, ['P', 'D']) }));
    expect(result.status).toBe('ROLLBACK_COMPLETE');
    expect(result.failure).toContain('is not authorized to perform: secretsmanager:GetSecretValue');
  });
});

describe('IAM propagation and concurrency', () => {
  const secret = { Type: 'AWS::SecretsManager::Secret', Properties: { SecretString: '{"k":"not-a-real-value"}' } };
  const grant = {
    Type: 'AWS::IAM::Policy',
    Properties: {
      PolicyName: 'ReadSecret',
      Roles: [{ Ref: 'HandlerRole' }],
      PolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: { Ref: 'S' } }] },
    },
  };

  test('a resource that forgot to depend on its grant runs alongside it and is denied (one at a time, it got lucky)', async () => {
    // Both become ready when the provider is; `Grant` sorts before `Reader`: run one at a time,
    // the grant happens to exist first.
    const template = () => stack({ ...provider(), S: secret, Grant: { ...grant, DependsOn: ['Framework'] }, Reader: cr({ ReadSecret: { Ref: 'S' } }) });
    expect((await simulator({ parallel: false }).deploy(template())).status).toBe('CREATE_COMPLETE');
    // IAM takes its time creating a policy (seconds in AWS).
    const result = await simulator({ nativeOperationMs: 300 }).deploy(template());
    expect(result.status).toBe('ROLLBACK_COMPLETE');
    expect(result.failure).toMatch(/^Reader: .*is not authorized to perform: secretsmanager:GetSecretValue/);
  });

  test('a fresh grant is in force only after the propagation delay', async () => {
    const sim = simulator({ iamPropagationMs: 300 });
    // Depends on the grant, reads at once: denied.
    const first = await sim.deploy(stack({ ...provider(), S: secret, P: grant, A: cr({ ReadSecret: { Ref: 'S' } }, ['P']) }));
    expect(first.status).toBe('ROLLBACK_COMPLETE');
    expect(first.failure).toContain('is not authorized to perform: secretsmanager:GetSecretValue');
    // Reads after the delay: allowed.
    const sim2 = simulator({ iamPropagationMs: 300 });
    expect((await sim2.deploy(stack({ ...provider(), S: secret, P: grant, A: cr({ ReadSecret: { Ref: 'S' }, SleepMs: 400 }, ['P']) }))).status)
      .toBe('CREATE_COMPLETE');
  });

  test('a removed grant keeps applying for the propagation delay, then stops', async () => {
    const sim = simulator({ iamPropagationMs: 300 });
    await sim.create(stack({ ...provider(), S: secret, P: grant, A: cr({ ReadSecret: { Ref: 'S' }, SleepMs: 400 }, ['P']) }));
    // P leaves the stack (deleted in the cleanup); B reads right after: still allowed.
    await sim.update(stack({ ...provider(), S: secret, A: cr({ ReadSecret: { Ref: 'S' }, SleepMs: 400 }) }));
    expect((await sim.deploy(stack({ ...provider(), S: secret, A: cr({ ReadSecret: { Ref: 'S' }, SleepMs: 400 }), B: cr({ ReadSecret: { Ref: 'S' } }) }))).status)
      .toBe('UPDATE_COMPLETE');
    await new Promise((r) => setTimeout(r, 350));
    const late = await sim.deploy(stack({ ...provider(), S: secret, A: cr({ ReadSecret: { Ref: 'S' }, SleepMs: 400 }), C: cr({ ReadSecret: { Ref: 'S' } }) }));
    expect(late.status).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(late.failure).toMatch(/^C: .*is not authorized to perform/);
  });
});

describe('IAM access keys', () => {
  const user = { Type: 'AWS::IAM::User', Properties: {} };
  const key = (serial: number, status?: string) => ({ Type: 'AWS::IAM::AccessKey', Properties: { UserName: { Ref: 'U' }, Serial: serial, ...(status ? { Status: status } : {}) } });

  test('a replaced, inactive, rolled-back or deleted access key stops working', async () => {
    const sim = simulator();
    await sim.create(stack({ ...provider(), U: user, K: key(1) }));
    const k1 = sim.resource('K')!.physicalId;
    expect(aws.accessKeyWorks(k1)).toBe(true);

    await sim.update(stack({ ...provider(), U: user, K: key(2) }));
    const k2 = sim.resource('K')!.physicalId;
    expect(k2).not.toBe(k1);
    expect(aws.accessKeyWorks(k1)).toBe(false);
    expect(aws.accessKeyWorks(k2)).toBe(true);

    await sim.update(stack({ ...provider(), U: user, K: key(2, 'Inactive') }));
    expect(sim.resource('K')!.physicalId).toBe(k2);
    expect(aws.accessKeyWorks(k2)).toBe(false);
    await sim.update(stack({ ...provider(), U: user, K: key(2) }));
    expect(aws.accessKeyWorks(k2)).toBe(true);

    // A replacement rolled back: the new key is deleted, the old one keeps working.
    const result = await sim.deploy(stack({ ...provider(), U: user, K: key(3), A: cr({ Fail: 'Create' }, ['K']) }));
    expect(result.status).toBe('UPDATE_ROLLBACK_COMPLETE');
    const k3 = result.events.find((e) => e.logicalId === 'K' && e.status === 'CREATE_COMPLETE')!.physicalId!;
    expect(aws.accessKeyWorks(k3)).toBe(false);
    expect(aws.accessKeyWorks(k2)).toBe(true);
    expect(sim.resource('K')!.physicalId).toBe(k2);

    await sim.delete();
    expect(aws.accessKeyWorks(k2)).toBe(false);
    expect(sim.status).toBe('DELETE_COMPLETE');
  });
});

describe('Retain policies and custom names', () => {
  const secret = (name: string, extra: Record<string, unknown> = {}) => ({ Type: 'AWS::SecretsManager::Secret', Properties: { Name: name, SecretString: '{}' }, ...extra });

  test('DeletionPolicy Retain keeps a removed resource (nothing deleted), and its custom name stays taken', async () => {
    const sim = simulator();
    await sim.create(stack({ ...provider(), S: secret('app/one', { DeletionPolicy: 'Retain' }), K: { Type: 'AWS::IAM::AccessKey', Properties: { UserName: 'u' }, DeletionPolicy: 'Retain' } }));
    const kept = sim.resource('K')!.physicalId;
    expect((await sim.deploy(stack({ ...provider() }))).status).toBe('UPDATE_COMPLETE');
    expect(sim.retainedByPolicy.map((r) => r.logicalId).sort()).toEqual(['K', 'S']);
    expect(aws.accessKeyWorks(kept)).toBe(true);
    // Re-adding a resource with the retained one's name fails like AWS does, and rolls back.
    const again = await sim.deploy(stack({ ...provider(), S2: secret('app/one') }));
    expect(again.status).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(again.failure).toMatch(/S2: Resource of type 'AWS::SecretsManager::Secret' with identifier 'app\/one' already exists/);
    await sim.delete();
  });

  test('a name freed by a real delete can be taken again', async () => {
    const sim = simulator();
    await sim.create(stack({ ...provider(), S: secret('app/two') }));
    await sim.update(stack({ ...provider() }));
    expect((await sim.deploy(stack({ ...provider(), S2: secret('app/two') }))).status).toBe('UPDATE_COMPLETE');
    await sim.delete();
  });
});

describe('parallel resource operations (CloudFormation starts every resource whose dependencies are done)', () => {
  /** [start, end] of each handler invocation, by `<type> <id>`, from the fake handler's log and the invocations. */
  const overlap = (a: string, b: string) => {
    const starts = log();
    const [ea, eb] = [a, b].map((k) => starts.find((e) => `${e.type} ${e.id}` === k));
    return ea !== undefined && eb !== undefined && Math.abs(ea.at - eb.at) < 100;
  };

  test('independent resources are created together, dependent ones after; deletes run in reverse dependency order, independent ones together', async () => {
    const sim = simulator();
    const template = stack({ ...provider(), A: cr({ SleepMs: 300 }), B: cr({ SleepMs: 300 }), C: cr({ SleepMs: 10 }, ['A', 'B']) });
    const started = Date.now();
    await sim.create(template);
    // Two 300 ms creates side by side, then C: well under the 600 ms one after the other takes.
    expect(Date.now() - started).toBeLessThan(600);
    expect(overlap('Create A', 'Create B')).toBe(true);
    expect(requests(sim, 'create').pop()).toBe('Create C -');
    (globalThis as any).__worldLog = [];
    await sim.delete();
    expect(requests(sim, 'delete')[0]).toBe('Delete C C-v1');
    expect(overlap('Delete A', 'Delete B')).toBe(true);
  });

  test('startJitterMs shuffles the start of concurrent operations (to find a forgotten dependency)', async () => {
    const ids = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'];
    const sim = simulator({ startJitterMs: 100 });
    await sim.create(stack({ ...provider(), ...Object.fromEntries(ids.map((id) => [id, cr({})])) }));
    // Without jitter they start in deployment order; 8 in that order by chance: 1 in 40320.
    expect(requests(sim, 'create').map((r) => r.split(' ')[1])).not.toEqual(ids);
  });

  test('parallel: false runs one operation at a time in deployment order', async () => {
    const sim = simulator({ parallel: false });
    const started = Date.now();
    await sim.create(stack({ ...provider(), A: cr({ SleepMs: 200 }), B: cr({ SleepMs: 200 }) }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(overlap('Create A', 'Create B')).toBe(false);
  });

  test('after a failure nothing new starts; operations in progress finish, then the rollback deletes them', async () => {
    const sim = simulator();
    const result = await sim.deploy(stack({
      ...provider(),
      Slow: cr({ SleepMs: 300 }),
      Bad: cr({ Fail: 'Create' }),
      Later: cr({}, ['Bad']),
      AfterSlow: cr({}, ['Slow']),
    }));
    expect(result.status).toBe('ROLLBACK_COMPLETE');
    expect(requests(sim, 'create').sort()).toEqual(['Create Bad -', 'Create Slow -']);
    expect(requests(sim, 'create-rollback')).toContain('Delete Slow Slow-v1');
  });

  test('concurrent invocations each see their own environment and role session', async () => {
    const sim = simulator();
    await sim.create(stack({ ...provider(), ...provider('Other'), A: cr({ SleepMs: 100 }), B: cr({ SleepMs: 100 }, undefined, 'Other') }));
    const byId = Object.fromEntries(log().map((e) => [e.id, e]));
    expect(overlap('Create A', 'Create B')).toBe(true);
    expect(byId.A.fn).toMatch(/-Handler-/);
    expect(byId.B.fn).toMatch(/-OtherHandler-/);
    expect(byId.A.fnAfter).toBe(byId.A.fn);
    expect(byId.B.fnAfter).toBe(byId.B.fn);
    expect(process.env.AWS_LAMBDA_FUNCTION_NAME).toBeUndefined();
  });
});
