/**
 * `npm run bench`: what a user of cdk-aep-s3 pays, measured side by side in one run on this
 * machine and printed as ONE table of ratios, each row with its goal (issues 12, 19) and whether it
 * is met. Never a timed assertion in jest: timings belong here.
 *
 *  - construct + synth time (construction included) vs a hand-written L1 stack with the same
 *    resources, for N = 1, 10, 50 and the largest N that fits CloudFormation's 500-resource limit
 *  - CloudFormation resources and template bytes per connection
 *  - cold `require` of the handler bundle vs aws-cdk-lib's `AwsCustomResource` handler bundle,
 *    each in fresh `node` processes (median)
 *  - every outbound call (IMS, Secrets Manager, STS, Flow Service) per lifecycle event of the
 *    example app, with a realistic number of failed key probes per fresh IAM key
 *  - the deliberate wait in a Create whose fresh IAM key takes a few seconds to propagate, under
 *    the handler's production timing
 *  - issue 19: Flow requests and AWS calls per destination at 1 → 10 → 100 destinations, in an
 *    empty sandbox and one crowded with 10,000 foreign destinations and their audience exports;
 *    one audience dataflow at 1 → 25 → 250 audiences (Create, adding one, removing one); the
 *    deploy wall time of a stack with 300 ms of AEP latency per request against its critical path
 *
 * The handler is exercised only through its bundle, run by the offline CloudFormation simulator
 * against the stand-ins: the bench measures what ships, whatever the source layout.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { App, CfnResource, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { runExampleLifecycle } from '../offline-world/cloudformation/example-lifecycle';
import { LambdaService } from '../offline-world/cloudformation/lambda';
import { dependencies } from '../offline-world/cloudformation/scheduler';
import { CloudFormationSimulator, InvocationRecord, readStack } from '../offline-world/cloudformation/simulator';
import { AepStandIn } from '../offline-world/stand-in/aep';
import { AccessKeyRegistration, AwsCall, AwsStandIn } from '../offline-world/stand-in/aws';
import { AepEndpoints, AepS3Destination, AepSandbox, AudienceSchedule, S3DestinationAuth } from '../src';
import { DataflowResourceTypes, ResourceTypes } from '../src/private/contract';

const ROOT = path.resolve(__dirname, '..');
const ENV = { account: '111122223333', region: 'us-east-1' };
const AEP_SECRET_NAME = 'aep/oauth';
const RESOURCE_LIMIT = 500;
/** AEP's hard limit (issue 19). */
const AEP_DESTINATIONS_PER_SANDBOX = 100;
const HANDLER_BUNDLE = path.join(ROOT, 'assets/handler/aep.lambda/index.js');
/**
 * Cloud assemblies go here, reused across synths as a project's cdk.out is. Under the project: the
 * bundle's external AWS SDK clients resolve from node_modules, as on Lambda's runtime.
 */
const WORK_DIR = path.join(ROOT, '.demo', 'bench');
const SYNTH_OUT = path.join(WORK_DIR, 'cdk.out');

/**
 * How long a fresh IAM access key takes until STS accepts it. IAM is eventually consistent and
 * AWS documents that changes "typically" take a few seconds; new access keys are commonly seen
 * rejected for 3–6 s. 4 s is the value used here: under the current backoff (1 s doubling, full
 * jitter at its mean) that is 4 failed probes, the upper end of the usual 3–4.
 */
const KEY_PROPAGATION_MS = 4_000;

/** Options of {@link libraryStack}. */
interface LibraryStackOptions {
  readonly outdir?: string;
  readonly endpoints?: AepEndpoints;
  /** @default `Lib<n>` */
  readonly name?: string;
  /** Audience ids one audience dataflow on the first destination exports. @default no dataflow */
  readonly audiences?: readonly string[];
}

/** N access-key destinations through the library (the first with an audience dataflow when asked). */
export function libraryStack(n: number, options: LibraryStackOptions = {}): Stack {
  const app = new App({ outdir: options.outdir ?? SYNTH_OUT });
  const stack = new Stack(app, options.name ?? `Lib${n}`, { env: ENV });
  const bucket = new s3.Bucket(stack, 'Bucket');
  const credentials = secretsmanager.Secret.fromSecretNameV2(stack, 'Creds', AEP_SECRET_NAME);
  // AEP takes at most 100 destinations per sandbox (the library refuses the 101st at synth): past
  // that, destinations go to further sandboxes, so the largest N is CloudFormation's cap alone.
  const sandboxes: AepSandbox[] = [];
  for (let i = 0; i < n; i++) {
    const group = Math.floor(i / AEP_DESTINATIONS_PER_SANDBOX);
    sandboxes[group] ??= new AepSandbox({ credentials, endpoints: options.endpoints, ...(group > 0 ? { sandboxName: `prod-${group}` } : {}) });
    const destination = new AepS3Destination(stack, `Dest${i}`, { sandbox: sandboxes[group], bucket, folderPath: `aep/d${i}/%SEGMENT_NAME%`, auth: S3DestinationAuth.accessKey() });
    if (i === 0 && options.audiences) {
      const schedule = AudienceSchedule.dailyFullAfterSegmentation({ startDate: '2026-01-05' });
      destination.addAudienceDataflow('Audiences', { audiences: options.audiences.map((audienceId) => ({ audienceId, schedule })) });
    }
  }
  return stack;
}

/**
 * The same resources written by hand with L1 constructs: per connection an IAM user (its folder
 * policy inline), its access key, a secret and one custom resource for base + target connection;
 * once per stack the handler, the provider framework function, their roles, policies and log
 * groups, and the handler's read grant on the AEP credential and (by name prefix) the key secrets.
 */
export function handWrittenStack(n: number): Stack {
  const app = new App({ outdir: SYNTH_OUT });
  const stack = new Stack(app, `L1${n}`, { env: ENV });
  const bucket = new s3.CfnBucket(stack, 'Bucket');
  const lambdaTrust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] };
  const handlerRole = new iam.CfnRole(stack, 'HandlerRole', { assumeRolePolicyDocument: lambdaTrust });
  const handlerLogs = new logs.CfnLogGroup(stack, 'HandlerLogs', { retentionInDays: 30 });
  new iam.CfnPolicy(stack, 'HandlerLogPolicy', {
    policyName: 'logs',
    roles: [handlerRole.ref],
    policyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: handlerLogs.attrArn }] },
  });
  const handler = new lambda.CfnFunction(stack, 'Handler', {
    role: handlerRole.attrArn,
    runtime: 'nodejs22.x',
    handler: 'index.handler',
    timeout: 300,
    memorySize: 256,
    code: { s3Bucket: 'cdk-assets', s3Key: 'handler.zip' },
    loggingConfig: { logGroup: handlerLogs.ref },
  });
  const frameworkRole = new iam.CfnRole(stack, 'FrameworkRole', {
    assumeRolePolicyDocument: lambdaTrust,
    managedPolicyArns: ['arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'],
  });
  new iam.CfnPolicy(stack, 'FrameworkPolicy', {
    policyName: 'invoke',
    roles: [frameworkRole.ref],
    policyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: [handler.attrArn, `${handler.attrArn}:*`] }] },
  });
  const frameworkLogs = new logs.CfnLogGroup(stack, 'FrameworkLogs', { retentionInDays: 30 });
  const framework = new lambda.CfnFunction(stack, 'Framework', {
    role: frameworkRole.attrArn,
    runtime: 'nodejs22.x',
    handler: 'framework.onEvent',
    timeout: 900,
    code: { s3Bucket: 'cdk-assets', s3Key: 'framework.zip' },
    loggingConfig: { logGroup: frameworkLogs.ref },
    environment: { variables: { USER_ON_EVENT_FUNCTION_ARN: handler.attrArn } },
  });
  const aepCredentialArn = `arn:aws:secretsmanager:us-east-1:111122223333:secret:${AEP_SECRET_NAME}`;
  const read = (resource: string) => ({ Effect: 'Allow', Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: resource });
  // The AEP credential and, by name prefix, every access-key secret of this stack: one grant for all.
  const secretPrefix = `arn:aws:secretsmanager:us-east-1:111122223333:secret:cdk-aep-s3/L1${n}/*`;
  const credentialGrant = new iam.CfnPolicy(stack, 'CredentialRead', {
    policyName: 'aep-secrets',
    roles: [handlerRole.ref],
    policyDocument: { Version: '2012-10-17', Statement: [read(`${aepCredentialArn}-??????`), read(secretPrefix)] },
  });
  for (let i = 0; i < n; i++) {
    // Same resources per destination as the library: a user with its folder policy inline, its
    // key, the secret holding it, and one custom resource for the base + target connection.
    const user = new iam.CfnUser(stack, `User${i}`, {
      policies: [{
        policyName: 'aep',
        policyDocument: {
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Action: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject', 's3:ListMultipartUploadParts'], Resource: `${bucket.attrArn}/aep/d${i}/*` },
            { Effect: 'Allow', Action: 's3:ListBucket', Resource: bucket.attrArn, Condition: { StringLike: { 's3:prefix': [`aep/d${i}`, `aep/d${i}/`, `aep/d${i}/*`] } } },
            { Effect: 'Allow', Action: 's3:GetBucketLocation', Resource: bucket.attrArn },
          ],
        },
      }],
    });
    const key = new iam.CfnAccessKey(stack, `Key${i}`, { userName: user.ref, status: 'Active' });
    const secret = new secretsmanager.CfnSecret(stack, `Secret${i}`, {
      name: `cdk-aep-s3/L1${n}/Dest${i}-${key.ref}`,
      description: `Access key AEP uses to write to s3://<bucket>/aep/d${i}/ (cdk-aep-s3, L1${n}/Dest${i})`,
      secretString: `{"accessKeyId":"${key.ref}","secretAccessKey":"${key.attrSecretAccessKey}"}`,
    });
    // The same information the library's custom resource carries, written out by hand.
    const conn = new CfnResource(stack, `Conn${i}`, {
      type: 'Custom::AepDestinationConnection',
      properties: {
        ServiceToken: framework.attrArn,
        ServiceTimeout: '600',
        ContractVersion: '1',
        AepCredentialsSecretArn: aepCredentialArn,
        AepSandboxName: 'prod',
        AepFlowServiceUrl: 'https://platform.adobe.io/data/foundation/flowservice',
        AepImsUrl: 'https://ims-na1.adobelogin.com',
        Name: `cdk-L1${n}-Dest${i}-Connection`,
        Description: `Managed by AWS CDK (cdk-aep-s3): L1${n}/Dest${i}`,
        ConnectionSpecId: '4fce964d-3f37-408f-9778-e597338a21ee',
        RemovalPolicy: 'delete',
        AuthSpecName: 'Access Key',
        AuthParams: {},
        AuthSecretArn: secret.ref,
        AuthSecretFields: { s3AccessKey: 'accessKeyId', s3SecretKey: 'secretAccessKey' },
        ChangeToken: key.ref,
        VerifyAwsKey: 'true',
        TargetParams: { mode: 'Server-to-server', bucketName: bucket.ref, path: `aep/d${i}/%SEGMENT_NAME%`, compression: 'NONE', fileType: 'CSV' },
      },
    });
    conn.addDependency(credentialGrant);
    conn.addDependency(user);
  }
  return stack;
}

export function synthTemplate(stack: Stack): any {
  const assembly = (stack.node.root as App).synth();
  return assembly.getStackByName(stack.stackName).template;
}

/** Warnings the synthesized stack carries (construct annotations). */
function synthWarnings(stack: Stack): string[] {
  const assembly = (stack.node.root as App).synth();
  return assembly.getStackByName(stack.stackName).messages
    .filter((m) => m.level === 'warning')
    .map((m) => String(m.entry.data));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function msSince(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/**
 * Median wall time of construct + synth (what `cdk synth` costs the user beyond CDK's own start),
 * library and baseline interleaved so that machine load hits both alike; one warm-up each. Also
 * the least CPU time of the runs: on a machine shared with other work, what the work itself costs.
 */
function timeConstructAndSynth(makeA: () => Stack, makeB: () => Stack, runs: number): [number, number, number, number] {
  synthTemplate(makeA());
  synthTemplate(makeB());
  const a: number[] = [];
  const b: number[] = [];
  const cpuA: number[] = [];
  const cpuB: number[] = [];
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  for (let i = 0; i < runs; i++) {
    let t0 = process.hrtime.bigint();
    let c0 = cpu();
    synthTemplate(makeA());
    a.push(msSince(t0));
    cpuA.push(cpu() - c0);
    t0 = process.hrtime.bigint();
    c0 = cpu();
    synthTemplate(makeB());
    b.push(msSince(t0));
    cpuB.push(cpu() - c0);
  }
  return [median(a), median(b), Math.min(...cpuA), Math.min(...cpuB)];
}

function count(template: any, pred: (r: any) => boolean = () => true): number {
  return Object.values<any>(template.Resources).filter(pred).length;
}

/** Resources in a stack's template; aws-cdk-lib refuses to synthesize past the limit, so read its count from the error. */
function resourceCount(stack: Stack): number {
  try {
    return count(synthTemplate(stack));
  } catch (e) {
    const m = /Number of resources in stack '[^']*': (\d+)/.exec((e as Error).message);
    if (!m) throw e;
    return Number(m[1]);
  }
}

/** Resource types added per connection: template(N=2) − template(N=1). */
function typesPerConnection(make: (n: number) => Stack): string {
  const tally = (n: number) => {
    const out = new Map<string, number>();
    for (const r of Object.values<any>(synthTemplate(make(n)).Resources)) out.set(r.Type, (out.get(r.Type) ?? 0) + 1);
    return out;
  };
  const one = tally(1);
  const two = tally(2);
  return [...two.entries()].map(([t, c]) => [t, c - (one.get(t) ?? 0)] as const).filter(([, d]) => d > 0)
    .sort(([a], [b]) => a.localeCompare(b)).map(([t, d]) => `${d}×${t}`).join(', ');
}

/** Largest N whose stack stays within the resource limit (checked by synthesizing N and N+1). */
function largestN(make: (n: number) => Stack): number {
  const r1 = resourceCount(make(1));
  const r10 = resourceCount(make(10));
  const per = (r10 - r1) / 9;
  let n = Math.floor((RESOURCE_LIMIT - (r1 - per)) / per);
  while (resourceCount(make(n)) > RESOURCE_LIMIT) n--;
  while (resourceCount(make(n + 1)) <= RESOURCE_LIMIT) n++;
  return n;
}

/** A fresh `node` process requiring a bundle: the `require` alone, and the whole process (Node start-up included), in ms. */
function coldRequire(file: string): { require: number; process: number } {
  const script = 'const t=process.hrtime.bigint();require(process.argv[1]);'
    + 'process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))';
  const t0 = process.hrtime.bigint();
  const out = execFileSync(process.execPath, ['-e', script, file], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', AWS_REGION: 'us-east-1', NODE_OPTIONS: '' },
  });
  return { require: Number(out), process: msSince(t0) };
}

/** Median cold-require times of two bundles, interleaved; the first pair warms the OS file cache. */
function coldRequirePair(a: string, b: string, runs: number): Array<{ require: number; process: number }> {
  coldRequire(a);
  coldRequire(b);
  const ta: Array<{ require: number; process: number }> = [];
  const tb: Array<{ require: number; process: number }> = [];
  for (let i = 0; i < runs; i++) {
    ta.push(coldRequire(a));
    tb.push(coldRequire(b));
  }
  const med = (list: typeof ta) => ({ require: median(list.map((x) => x.require)), process: median(list.map((x) => x.process)) });
  return [med(ta), med(tb)];
}

/** Records when each AWS call reached the stand-in. */
function stampAwsCalls(aws: AwsStandIn): Array<{ at: number; call: AwsCall }> {
  const stamped: Array<{ at: number; call: AwsCall }> = [];
  const calls = aws.calls;
  calls.push = (...items: AwsCall[]) => {
    for (const call of items) stamped.push({ at: Date.now(), call });
    return Array.prototype.push.apply(calls, items);
  };
  return stamped;
}

/** A recorded request or call, when it reached its stand-in, and the simulator invocation it happened in. */
interface Tagged<T> {
  readonly invocation: number;
  /** `performance.now()` at arrival. */
  readonly at: number;
  readonly item: T;
}

/**
 * Tags every recorded call with the index of the simulator invocation it happened in (the
 * simulator records an invocation when it ends, so during one the index is the count so far: exact
 * for one invocation at a time) and with its arrival time.
 */
function tagByInvocation<T>(list: T[], current: () => number): Array<Tagged<T>> {
  const tagged: Array<Tagged<T>> = [];
  list.push = (...items: T[]) => {
    for (const item of items) tagged.push({ invocation: current(), at: performance.now(), item });
    return Array.prototype.push.apply(list, items);
  };
  return tagged;
}

/** What a Create of one access-key destination waited for its fresh IAM key. */
interface KeyWait {
  /** Stack Create wall time, ms. */
  readonly createMs: number;
  /** Key creation → first probe (STS or S3 listing) the key passed, ms (undefined: never probed). */
  readonly waitMs?: number;
  /** Probes rejected before that. */
  readonly failedProbes: number;
}

/**
 * Creates (then deletes) a one-destination stack through the bundled handler under its
 * production timing (no knob overrides), with every new IAM key rejected by STS until
 * `propagationMs` after its creation: IAM propagation modelled in time, not in a number of calls,
 * so a faster polling schedule pays in probes, not in a smaller model. `Math.random` is held at
 * 0.5 meanwhile: jittered waits take their mean value and one run stands for the expectation.
 */
async function measureKeyWait(aep: AepStandIn, aws: AwsStandIn, workDir: string, propagationMs: number): Promise<KeyWait> {
  const outdir = path.join(workDir, `key-wait-${propagationMs}`);
  fs.rmSync(outdir, { recursive: true, force: true });
  const stack = libraryStack(1, { outdir, endpoints: AepEndpoints.custom({ flowServiceUrl: aep.flowServiceUrl, imsUrl: aep.imsUrl }) });
  (stack.node.root as App).synth();
  const synthesized = readStack(outdir, stack.stackName);
  aws.reset();
  aep.resetRecording();
  aws.putSecret(`arn:aws:secretsmanager:${ENV.region}:${ENV.account}:secret:${AEP_SECRET_NAME}-Ab12Cd`, JSON.stringify(aep.credentials));

  const stamped = stampAwsCalls(aws);
  const created = new Map<string, number>();
  const timers: NodeJS.Timeout[] = [];
  const register = AwsStandIn.prototype.registerAccessKey.bind(aws);
  aws.registerAccessKey = (key: AccessKeyRegistration) => {
    created.set(key.accessKeyId, Date.now());
    register({ ...key, notValidForNextCalls: propagationMs > 0 ? Number.MAX_SAFE_INTEGER : 0 });
    if (propagationMs > 0) timers.push(setTimeout(() => register({ ...key, notValidForNextCalls: 0 }), propagationMs));
  };

  const savedEnv = { ...process.env };
  const realRandom = Math.random;
  Object.assign(process.env, aws.env());
  for (const knob of Object.keys(process.env)) if (/^(AEP_|AWS_KEY_PROBE_)/.test(knob)) delete process.env[knob];
  Math.random = () => 0.5;
  try {
    const sim = new CloudFormationSimulator(stack.stackName, { aws, account: ENV.account, region: ENV.region, logSink: [] });
    const t0 = Date.now();
    await sim.create(synthesized, 'create');
    const createMs = Date.now() - t0;
    await sim.delete('delete');
    const [[keyId, at]] = [...created.entries()];
    // The key's probes: STS GetCallerIdentity, or, for an access-key destination that proves it
    // can reach its folder, the S3 listing that stands in for it.
    const sts = stamped.filter((s) => (s.call.service === 'sts' || s.call.service === 's3') && s.call.accessKeyId === keyId);
    const firstOk = sts.find((s) => s.call.status < 400);
    return {
      createMs,
      waitMs: firstOk && firstOk.at - at,
      failedProbes: sts.filter((s) => s.call.status >= 400 && (!firstOk || s.at <= firstOk.at)).length,
    };
  } finally {
    Math.random = realRandom;
    timers.forEach(clearTimeout);
    delete (aws as any).registerAccessKey;
    delete (aws.calls as any).push;
    for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
    Object.assign(process.env, savedEnv);
  }
}

/** What one stack Create of N access-key destinations cost, in a sandbox crowded or not. */
interface ScaleRun {
  readonly n: number;
  readonly crowd: number;
  /** Flow Service requests of the Create, all destinations together. */
  readonly flow: number;
  /** Of those, list GETs (adoption lookups and the pages they followed). */
  readonly lists: number;
  /** AWS calls of the Create (Secrets Manager, STS, S3 probes). */
  readonly aws: number;
  readonly createMs: number;
}

/**
 * Creates (then deletes) a stack of `n` access-key destinations through the bundled handler, keys
 * valid at once, in a sandbox that already holds `crowd` foreign S3 destinations (base + target
 * connection each, made in the UI): what a Create costs per destination, and whether it grows
 * with the number of destinations or with the size of the sandbox.
 */
async function measureScaleRun(aep: AepStandIn, aws: AwsStandIn, workDir: string, n: number, crowd: number): Promise<ScaleRun> {
  const outdir = path.join(workDir, `scale-${n}-${crowd}`);
  fs.rmSync(outdir, { recursive: true, force: true });
  const stack = libraryStack(n, { outdir, endpoints: AepEndpoints.custom({ flowServiceUrl: aep.flowServiceUrl, imsUrl: aep.imsUrl }) });
  (stack.node.root as App).synth();
  const synthesized = readStack(outdir, stack.stackName);
  aep.reset();
  aws.reset();
  aep.crowd(crowd);
  aws.putSecret(`arn:aws:secretsmanager:${ENV.region}:${ENV.account}:secret:${AEP_SECRET_NAME}-Ab12Cd`, JSON.stringify(aep.credentials));
  const register = AwsStandIn.prototype.registerAccessKey.bind(aws);
  aws.registerAccessKey = (key: AccessKeyRegistration) => register({ ...key, notValidForNextCalls: 0 });
  const savedEnv = { ...process.env };
  Object.assign(process.env, aws.env());
  for (const knob of Object.keys(process.env)) if (/^(AEP_|AWS_KEY_PROBE_)/.test(knob)) delete process.env[knob];
  try {
    const sim = new CloudFormationSimulator(stack.stackName, { aws, account: ENV.account, region: ENV.region, logSink: [] });
    const t0 = Date.now();
    await sim.create(synthesized, 'create');
    const createMs = Date.now() - t0;
    const flow = aep.requests.filter((r) => r.path.includes('/flowservice/'));
    const run: ScaleRun = {
      n,
      crowd,
      flow: flow.length,
      lists: flow.filter((r) => r.method === 'GET' && /\/(connections|targetConnections)$/.test(r.path)).length,
      aws: aws.calls.length,
      createMs,
    };
    await sim.delete('delete');
    return run;
  } finally {
    delete (aws as any).registerAccessKey;
    for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
    Object.assign(process.env, savedEnv);
  }
}

const AEP_CREDENTIAL_ARN = `arn:aws:secretsmanager:${ENV.region}:${ENV.account}:secret:${AEP_SECRET_NAME}-Ab12Cd`;

/**
 * Runs `work` as the bundled handler's Lambda sees the offline world: the AWS stand-in's
 * endpoints, no timing knobs (production timing), the AEP credential stored, every new IAM key
 * valid `propagationMs` after its creation (0: at once). With `meanJitter`, `Math.random` is held
 * at 0.5: jittered waits take their mean and one run stands for the expectation.
 */
async function inHandlerWorld<T>(aep: AepStandIn, aws: AwsStandIn, propagationMs: number, meanJitter: boolean, work: () => Promise<T>): Promise<T> {
  aws.putSecret(AEP_CREDENTIAL_ARN, JSON.stringify(aep.credentials));
  const timers: NodeJS.Timeout[] = [];
  const register = AwsStandIn.prototype.registerAccessKey.bind(aws);
  aws.registerAccessKey = (key: AccessKeyRegistration) => {
    register({ ...key, notValidForNextCalls: propagationMs > 0 ? Number.MAX_SAFE_INTEGER : 0 });
    if (propagationMs > 0) timers.push(setTimeout(() => register({ ...key, notValidForNextCalls: 0 }), propagationMs));
  };
  const savedEnv = { ...process.env };
  const realRandom = Math.random;
  Object.assign(process.env, aws.env());
  for (const knob of Object.keys(process.env)) if (/^(AEP_|AWS_KEY_PROBE_)/.test(knob)) delete process.env[knob];
  if (meanJitter) Math.random = () => 0.5;
  try {
    return await work();
  } finally {
    Math.random = realRandom;
    timers.forEach(clearTimeout);
    delete (aws as any).registerAccessKey;
    for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
    Object.assign(process.env, savedEnv);
  }
}

/** Synthesizes a library stack into its own folder and reads it back as the simulator takes it. */
function synthesizeInto(workDir: string, folder: string, n: number, options: LibraryStackOptions) {
  const outdir = path.join(workDir, folder);
  fs.rmSync(outdir, { recursive: true, force: true });
  const stack = libraryStack(n, { ...options, outdir });
  (stack.node.root as App).synth();
  return readStack(outdir, stack.stackName);
}

/** What one stack event cost the custom resources of some types. */
interface EventCost {
  /** Flow Service requests. */
  readonly flow: number;
  /** AWS calls (Secrets Manager, STS, S3 probes). */
  readonly aws: number;
  /** PATCHes of a flow, and the JSON Patch operations they carried. */
  readonly flowPatches: number;
  readonly patchOps: number;
  /** Each Flow Service request as `METHOD /collection[/{id}]`, in order. */
  readonly shapes: string[];
}

/** Records what every custom resource invocation of a simulated stack asks the stand-ins (one invocation at a time). */
function recordInvocations(aep: AepStandIn, aws: AwsStandIn, sim: CloudFormationSimulator) {
  const current = () => sim.invocations.length;
  const requests = tagByInvocation(aep.requests, current);
  const calls = tagByInvocation(aws.calls, current);
  return {
    requests,
    calls,
    /** What the invocations from index `from` on of these resource types cost (none may have failed). */
    cost(from: number, types: readonly string[]): EventCost {
      const picked = sim.invocations.map((inv, i) => ({ inv, i })).slice(from).filter(({ inv }) => types.includes(inv.resourceType));
      const failed = picked.find(({ inv }) => inv.error);
      if (failed) throw new Error(`bench: ${failed.inv.logicalId} ${failed.inv.requestType} failed: ${failed.inv.error}`);
      const ids = new Set(picked.map(({ i }) => i));
      const flow = requests.filter((t) => ids.has(t.invocation) && t.item.path.includes('/flowservice/')).map((t) => t.item);
      const patches = flow.filter((r) => r.method === 'PATCH' && /\/flows\/[^/]+$/.test(r.path));
      return {
        flow: flow.length,
        aws: calls.filter((t) => ids.has(t.invocation)).length,
        flowPatches: patches.length,
        patchOps: patches.reduce((sum, r) => sum + (Array.isArray(r.body) ? r.body.length : 0), 0),
        shapes: flow.map((r) => `${r.method} ${r.path.replace(/^.*\/flowservice/, '').replace(/\/[0-9a-f-]{36}/g, '/{id}')}`),
      };
    },
    stop(): void {
      delete (aep.requests as any).push;
      delete (aws.calls as any).push;
    },
  };
}

/** One audience dataflow with n audiences: its Create, and an Update adding one and one removing one. */
interface AudienceRun {
  readonly n: number;
  readonly crowd: number;
  /** Source connection + flow. */
  readonly create: EventCost;
  readonly add: EventCost;
  readonly remove: EventCost;
}

/**
 * Deploys (sequentially, so each request belongs to one invocation) a stack of one access-key
 * destination with an audience dataflow of `n` audiences in a sandbox crowded with `crowd` foreign
 * destinations and their audience exports; then an Update that adds one audience, one that
 * removes one (the first: every selector after it moves up one index), and the Delete. Keys are
 * valid at once; the Lambda containers stay warm, so per-container reads land in the Create.
 */
async function measureAudienceRun(aep: AepStandIn, aws: AwsStandIn, workDir: string, n: number, crowd: number): Promise<AudienceRun> {
  const ids = Array.from({ length: n + 1 }, (_, i) => `audience-${String(i).padStart(4, '0')}`);
  const endpoints = AepEndpoints.custom({ flowServiceUrl: aep.flowServiceUrl, imsUrl: aep.imsUrl });
  const options = { endpoints, name: `Audiences${n}` };
  const initial = synthesizeInto(workDir, `audiences-${n}-${crowd}-create`, 1, { ...options, audiences: ids.slice(0, n) });
  const added = synthesizeInto(workDir, `audiences-${n}-${crowd}-add`, 1, { ...options, audiences: ids });
  const removed = synthesizeInto(workDir, `audiences-${n}-${crowd}-remove`, 1, { ...options, audiences: ids.slice(1) });
  aep.reset();
  aws.reset();
  aep.crowd(crowd);
  return inHandlerWorld(aep, aws, 0, false, async () => {
    const sim = new CloudFormationSimulator(options.name, { aws, account: ENV.account, region: ENV.region, logSink: [], parallel: false });
    const record = recordInvocations(aep, aws, sim);
    try {
      const step = async (run: () => Promise<unknown>, types: readonly string[]) => {
        const from = sim.invocations.length;
        await run();
        return record.cost(from, types);
      };
      const create = await step(() => sim.create(initial, 'create'), [DataflowResourceTypes.SOURCE_CONNECTION, DataflowResourceTypes.FLOW]);
      const add = await step(() => sim.update(added, 'add'), [DataflowResourceTypes.FLOW]);
      const remove = await step(() => sim.update(removed, 'remove'), [DataflowResourceTypes.FLOW]);
      await sim.delete('delete');
      if (aep.validationFailures.length) throw new Error(`bench: the stand-in rejected requests: ${aep.validationFailures.join('; ')}`);
      return { n, crowd, create, add, remove };
    } finally {
      record.stop();
    }
  });
}

/** AEP's latency per request in the modelled deploy (issue 19: "say 300 ms a call"). */
const AEP_LATENCY_MS = 300;
/**
 * The latency of the profiling run that finds each custom resource's sequential requests: enough
 * for requests an invocation sends concurrently to overlap visibly, small enough to be quick.
 */
const PROFILE_LATENCY_MS = 25;

/**
 * How many requests, given by arrival time, follow one another: each starts only after the one
 * before it was answered (at least `latencyMs` later); requests sent together count once.
 */
function sequentialDepth(arrivals: number[], latencyMs: number): number {
  let depth = 0;
  let last = Number.NEGATIVE_INFINITY;
  for (const at of [...arrivals].sort((a, b) => a - b)) {
    if (at - last >= 0.8 * latencyMs) {
      depth++;
      last = at;
    }
  }
  return depth;
}

/** A custom resource's AEP requests that must follow one another, around its fresh key's first accepted probe. */
interface ResourceChain {
  readonly type: string;
  /** Sequential AEP requests (IMS included) before the first accepted probe of a fresh IAM key, and after (all of them: `after`, when no key). */
  readonly before: number;
  readonly after: number;
  /** Whether the resource waited for a fresh IAM key. */
  readonly freshKey: boolean;
}

/** The modelled deploy: measured wall time against the critical-path bound. */
interface LatencyRun {
  readonly wallMs: number;
  readonly boundMs: number;
  /** Σ of every custom resource's own bound: what CloudFormation would need one resource at a time. */
  readonly serialMs: number;
  /** The longest chain, resource by resource (`logicalId (ms)`). */
  readonly path: string[];
  readonly customResources: number;
}

/**
 * Deploy wall time of `destinations` access-key destinations, the first with an audience dataflow
 * of `audiences` audiences, with every AEP answer `AEP_LATENCY_MS` late and each fresh IAM key
 * valid `KEY_PROPAGATION_MS` after its creation (production timing, jitter at its mean), against
 * the critical-path bound. The bound comes from a profiling run of the same stack, one custom
 * resource at a time with a small latency, that records which AEP requests each resource sends one
 * after the other; it is the longest path through the template's dependency graph (CloudFormation
 * runs independent resources in parallel, as the simulator's scheduler does), each custom resource
 * weighing its sequential requests × latency, and a destination with a fresh key at least the
 * propagation wait before the requests that follow its first accepted probe. The profiling run
 * keeps Lambda containers warm (one IMS token and spec read for all), so the bound is a lower one.
 */
async function measureDeployLatency(aep: AepStandIn, aws: AwsStandIn, workDir: string, destinations: number, audiences: number): Promise<LatencyRun> {
  const endpoints = AepEndpoints.custom({ flowServiceUrl: aep.flowServiceUrl, imsUrl: aep.imsUrl });
  const ids = Array.from({ length: audiences }, (_, i) => `audience-${String(i).padStart(4, '0')}`);
  const stack = synthesizeInto(workDir, 'latency', destinations, { endpoints, name: 'Latency', audiences: ids });
  const simulator = (parallel: boolean) =>
    new CloudFormationSimulator(stack.stackName, { aws, account: ENV.account, region: ENV.region, logSink: [], parallel });

  aep.reset();
  aws.reset();
  aep.latencyMs = PROFILE_LATENCY_MS;
  const chains = await inHandlerWorld(aep, aws, 0, true, async () => {
    const sim = simulator(false);
    const record = recordInvocations(aep, aws, sim);
    try {
      await sim.create(stack, 'profile');
      const out = new Map<string, ResourceChain>();
      sim.invocations.forEach((inv, i) => {
        const arrivals = record.requests.filter((t) => t.invocation === i).map((t) => t.at);
        const probe = record.calls.find((t) => t.invocation === i && (t.item.service === 'sts' || t.item.service === 's3')
          && (t.item.accessKeyId ?? '').startsWith('AKIA') && t.item.status < 400);
        const split = probe?.at ?? Number.NEGATIVE_INFINITY;
        out.set(inv.logicalId, {
          type: inv.resourceType,
          before: sequentialDepth(arrivals.filter((at) => at < split), PROFILE_LATENCY_MS),
          after: sequentialDepth(arrivals.filter((at) => at >= split), PROFILE_LATENCY_MS),
          freshKey: probe !== undefined,
        });
      });
      return out;
    } finally {
      record.stop();
    }
  });

  aep.reset();
  aws.reset();
  aep.latencyMs = AEP_LATENCY_MS;
  let wallMs: number;
  try {
    wallMs = await inHandlerWorld(aep, aws, KEY_PROPAGATION_MS, true, async () => {
      const sim = simulator(true);
      const t0 = Date.now();
      await sim.create(stack, 'create');
      return Date.now() - t0;
    });
  } finally {
    aep.latencyMs = 0;
  }
  if (aep.validationFailures.length) throw new Error(`bench: the stand-in rejected requests: ${aep.validationFailures.join('; ')}`);

  const weight = (id: string) => {
    const c = chains.get(id);
    if (!c) return 0;
    return (c.freshKey ? Math.max(KEY_PROPAGATION_MS, c.before * AEP_LATENCY_MS) : c.before * AEP_LATENCY_MS) + c.after * AEP_LATENCY_MS;
  };
  const deps = dependencies(stack.template.Resources);
  const finish = new Map<string, { ms: number; via?: string }>();
  const finishOf = (id: string): { ms: number; via?: string } => {
    const known = finish.get(id);
    if (known) return known;
    let via: string | undefined;
    let start = 0;
    for (const d of deps.get(id) ?? []) {
      const f = finishOf(d).ms;
      if (f > start) [start, via] = [f, d];
    }
    const out = { ms: start + weight(id), via };
    finish.set(id, out);
    return out;
  };
  const resources = Object.keys(stack.template.Resources);
  const last = resources.reduce((best, id) => (finishOf(id).ms > finishOf(best).ms ? id : best), resources[0]);
  const chain: string[] = [];
  for (let id: string | undefined = last; id; id = finishOf(id).via) if (weight(id) > 0) chain.unshift(`${id} (${weight(id)} ms)`);
  return {
    wallMs,
    boundMs: finishOf(last).ms,
    serialMs: [...chains.keys()].reduce((sum, id) => sum + weight(id), 0),
    path: chain,
    customResources: chains.size,
  };
}

/** Flow Service requests an event needs at the least (IMS and Secrets Manager are per container). */
const FLOW_MINIMUM: Record<string, number> = {
  [`${ResourceTypes.CONNECTION}/Create`]: 1, // POST
  [`${ResourceTypes.CONNECTION}/Update`]: 2, // GET (etag) + PATCH with If-Match
  [`${ResourceTypes.CONNECTION}/Delete`]: 1, // DELETE
  [`${ResourceTypes.TARGET_CONNECTION}/Create`]: 1,
  [`${ResourceTypes.TARGET_CONNECTION}/Update`]: 2,
  [`${ResourceTypes.TARGET_CONNECTION}/Delete`]: 1,
  // A destination's base + target connection, one custom resource.
  [`${ResourceTypes.DESTINATION_CONNECTION}/Create`]: 2, // POST base, POST target
  [`${ResourceTypes.DESTINATION_CONNECTION}/Update`]: 2, // GET (etag) + PATCH of what changed (the key rotation: the base)
  [`${ResourceTypes.DESTINATION_CONNECTION}/Delete`]: 2, // DELETE target, DELETE base
  [`${ResourceTypes.IAM_ROLE_LOOKUP}/Create`]: 1,
  [`${ResourceTypes.IAM_ROLE_LOOKUP}/Update`]: 1,
  [`${ResourceTypes.IAM_ROLE_LOOKUP}/Delete`]: 0, // nothing exists in AEP
  ['AWS::Events::Rule/Refresh']: 2, // GET (etag) + PATCH
  // Dataflows (DATAFLOWS.md).
  [`${DataflowResourceTypes.SOURCE_CONNECTION}/Create`]: 1, // POST
  [`${DataflowResourceTypes.SOURCE_CONNECTION}/Delete`]: 1, // DELETE
  [`${DataflowResourceTypes.DATASET_TARGET_CONNECTION}/Create`]: 1,
  [`${DataflowResourceTypes.DATASET_TARGET_CONNECTION}/Delete`]: 1,
  [`${DataflowResourceTypes.FLOW}/Create`]: 1, // POST
  [`${DataflowResourceTypes.FLOW}/Update`]: 2, // GET (etag, stored selectors) + PATCH
  [`${DataflowResourceTypes.FLOW}/Delete`]: 1, // DELETE
  [`${DataflowResourceTypes.MAPPING_SET}/Create`]: 1, // POST
  [`${DataflowResourceTypes.MAPPING_SET}/Delete`]: 0, // AEP cannot delete a mapping set
  [`${DataflowResourceTypes.PROFILE_MAPPING}/Create`]: 3, // POST two conversion schemas, POST the mapping set (§4.6)
  [`${DataflowResourceTypes.PROFILE_MAPPING}/Delete`]: 0,
};

/**
 * Requests above the minimum that the design pays on purpose, with the reason. A Create first
 * looks up the object by its marker, so that a retried Create adopts what an earlier attempt made;
 * Update and Delete read the object (its kind, its etag) and list same-kind objects carrying the
 * marker, to remove twins a late-applied POST left.
 */
const FLOW_BY_DESIGN: Record<string, [number, string]> = {
  // Issue 10: the live connection spec is read once per container, a source's folder explored once.
  [`${ResourceTypes.CONNECTION}/Create`]: [3, 'adopt lookup, spec read per container, source folder explore'],
  [`${ResourceTypes.TARGET_CONNECTION}/Create`]: [1, 'adopt lookup'],
  [`${ResourceTypes.CONNECTION}/Update`]: [2, 'twin lookup, spec read per container'],
  [`${ResourceTypes.TARGET_CONNECTION}/Update`]: [1, 'twin lookup'],
  [`${ResourceTypes.CONNECTION}/Delete`]: [2, 'kind GET, twin lookup'],
  [`${ResourceTypes.TARGET_CONNECTION}/Delete`]: [2, 'kind GET, twin lookup'],
  [`${ResourceTypes.DESTINATION_CONNECTION}/Create`]: [3, 'adopt lookup ×2, spec read per container'],
  // The target is found (and its drift corrected) by its base and marker: no id in the event.
  [`${ResourceTypes.DESTINATION_CONNECTION}/Update`]: [3, 'twin lookup, target lookup, spec read per container'],
  [`${ResourceTypes.DESTINATION_CONNECTION}/Delete`]: [3, 'kind GET, target lookup, twin lookup'],
  // The refresh function is its own container: one spec read (which params the PATCH may replace).
  ['AWS::Events::Rule/Refresh']: [1, 'spec read per container'],
  [`${DataflowResourceTypes.SOURCE_CONNECTION}/Create`]: [1, 'adopt lookup'],
  [`${DataflowResourceTypes.SOURCE_CONNECTION}/Delete`]: [2, 'kind GET, twin lookup'],
  [`${DataflowResourceTypes.DATASET_TARGET_CONNECTION}/Create`]: [1, 'adopt lookup'],
  [`${DataflowResourceTypes.DATASET_TARGET_CONNECTION}/Delete`]: [2, 'kind GET, twin lookup'],
  // Audiences, keys and profile mapping go in by PATCH only: the POST carries the empty skeleton (§4.4).
  [`${DataflowResourceTypes.FLOW}/Create`]: [4, 'flow spec read per container, adopt lookup, read-back GET, audience flows: the PATCH of their audiences'],
  [`${DataflowResourceTypes.FLOW}/Update`]: [1, 'twin lookup'],
  // A destination flow's DELETE is accepted (202) and carried out later; its connections can go only after.
  [`${DataflowResourceTypes.FLOW}/Delete`]: [10, 'kind GET, twin lookup, GETs until a 202-accepted delete is done (stand-in: 8)'],
  [`${DataflowResourceTypes.MAPPING_SET}/Create`]: [1, 'adopt lookup'],
  [`${DataflowResourceTypes.PROFILE_MAPPING}/Create`]: [3, 'adopt lookup, union schema read (paths checked), connection spec read (partner schema)'],
};

interface CallCounts { ims: number; awsCredential: number; otherSecrets: number; stsOk: number; stsFailed: number; flow: number }

/** Every outbound call per lifecycle event of the example app (create → refresh → update → delete). */
async function measureLifecycleCalls(aep: AepStandIn, aws: AwsStandIn, workDir: string, keyPropagationFailures: number) {
  aws.reset();
  aep.resetRecording();
  let sim: CloudFormationSimulator | undefined;
  let containers = 0;
  // Each new Lambda container loads its function's module once (lambda.ts LambdaService).
  const proto = CloudFormationSimulator.prototype as any;
  const lambdaProto = LambdaService.prototype as any;
  const [create, load] = [proto.create, lambdaProto.loadFunction];
  proto.create = function (this: CloudFormationSimulator, ...args: unknown[]) { sim = this; return create.apply(this, args); };
  lambdaProto.loadFunction = function (...args: unknown[]) { containers++; return load.apply(this, args); };
  const current = () => sim?.invocations.length ?? -1;
  const aepTagged = tagByInvocation(aep.requests, current);
  const awsTagged = tagByInvocation(aws.calls, current);
  let report;
  try {
    // One operation at a time: the invocation index then tags every call exactly.
    report = await runExampleLifecycle({ aep, aws, workDir: path.join(workDir, 'lifecycle'), keyPropagationFailures, parallel: false });
  } finally {
    proto.create = create;
    lambdaProto.loadFunction = load;
    delete (aep.requests as any).push;
    delete (aws.calls as any).push;
  }
  if (!sim || containers === 0) throw new Error('bench: the simulator no longer goes through create() and LambdaService.loadFunction(); update measureLifecycleCalls');
  if (report.validationFailures.length) throw new Error(`the stand-in rejected requests: ${report.validationFailures.join('; ')}`);
  const credentialNames = new Set<string>();
  for (const def of Object.values<any>(JSON.parse(report.templates[0]).Resources)) {
    const m = /:secret:([^"\\]+)/.exec(JSON.stringify(def.Properties?.AepCredentialsSecretArn ?? ''));
    if (m) credentialNames.add(m[1]);
  }
  const isCredential = (c: AwsCall) => [...credentialNames].some((n) => (c.secretId ?? '').includes(`:secret:${n}`) || c.secretId === n);
  if (process.env.BENCH_DEBUG) {
    report.invocations.forEach((inv: InvocationRecord, i: number) => console.error(`${inv.resourceType}/${inv.requestType} ${inv.logicalId}: `
      + aepTagged.filter((t) => t.invocation === i).map((t) => `${t.item.method} ${t.item.path.replace(/^.*flowservice/, '')} ${t.item.status}`).join(', ')));
  }
  const perInvocation = (i: number): CallCounts => {
    const a = aepTagged.filter((t) => t.invocation === i).map((t) => t.item);
    const w = awsTagged.filter((t) => t.invocation === i).map((t) => t.item);
    return {
      ims: a.filter((r) => r.path.startsWith('/ims/')).length,
      flow: a.filter((r) => !r.path.startsWith('/ims/')).length,
      awsCredential: w.filter((c) => c.service === 'secretsmanager' && isCredential(c)).length,
      otherSecrets: w.filter((c) => c.service === 'secretsmanager' && !isCredential(c)).length,
      stsOk: w.filter((c) => c.service === 'sts' && c.status < 400).length,
      stsFailed: w.filter((c) => c.service === 'sts' && c.status >= 400).length,
    };
  };
  const groups = new Map<string, CallCounts[]>();
  report.invocations.forEach((inv: InvocationRecord, i: number) => {
    if (inv.answeredByFramework || inv.error) return;
    const key = `${inv.resourceType}/${inv.requestType}`;
    groups.set(key, [...(groups.get(key) ?? []), perInvocation(i)]);
  });
  const untagged = [...aepTagged, ...awsTagged].filter((t) => t.invocation < 0).length;
  const probesPerKey = (() => {
    const user = awsTagged.map((t) => t.item).filter((c) => c.service === 'sts' && c.action === 'GetCallerIdentity' && (c.accessKeyId ?? '').startsWith('AKIA'));
    const keys = new Set(user.map((c) => c.accessKeyId));
    return keys.size ? user.length / keys.size : 0;
  })();
  const all = report.invocations.map((_, i) => perInvocation(i));
  return {
    groups,
    containers,
    untagged,
    probesPerKey,
    imsTotal: all.reduce((s, c) => s + c.ims, 0),
    credentialReads: all.reduce((s, c) => s + c.awsCredential, 0),
  };
}

type Row = [measure: string, library: string, baseline: string, ratio: string, goal: string, met: string];

async function main(): Promise<void> {
  const rows: Row[] = [];
  const notes: string[] = [];
  const workDir = WORK_DIR;
  fs.rmSync(workDir, { recursive: true, force: true });
  const yes = (ok: boolean) => (ok ? 'yes' : 'NO');
  const fmt = (v: number, digits = 1) => v.toFixed(digits);

  // BENCH_ONLY=synth,require,lifecycle,scale,audiences,latency runs only those parts (while working on one).
  const only = new Set((process.env.BENCH_ONLY ?? '').split(',').map((p) => p.trim()).filter(Boolean));
  const on = (part: string) => only.size === 0 || only.has(part);

  try {
    // 1. Construct + synth, resources, bytes.
    if (on('synth')) {
      const libTypes = typesPerConnection((n) => libraryStack(n));
      const l1Types = typesPerConnection((n) => handWrittenStack(n));
      const sameResources = libTypes === l1Types;
      if (!sameResources) notes.push(`L1 baseline is out of date: per connection the library adds ${libTypes}, the baseline ${l1Types}; synth and size ratios are not comparable until bench/bench.ts handWrittenStack() is updated`);
      const nMax = largestN((n) => libraryStack(n));
      const sizes = [1, 10, 50, nMax];
      const synth: Record<number, [number, number, number, number]> = {};
      for (const n of sizes) synth[n] = timeConstructAndSynth(() => libraryStack(n), () => handWrittenStack(n), n >= 50 ? 7 : 9);
      const ratioOrNa = (a: number, b: number) => (sameResources ? fmt(a / b, 2) : 'n/a');
      for (const n of sizes) {
        const [lib, l1] = synth[n];
        rows.push([`construct+synth ms, N=${n}${n === nMax ? ' (largest that fits)' : ''}`, fmt(lib), fmt(l1), ratioOrNa(lib, l1), '—', '']);
      }
      // Nothing superlinear of our own: the library / L1 ratio at the largest N stays within 1.25× of
      // its value at N = 10 (aws-cdk-lib's own growth is in both).
      const ratioAt = (n: number) => synth[n][0] / synth[n][1];
      rows[rows.length - 1][4] = 'no growth of its own';
      rows[rows.length - 1][5] = sameResources ? yes(ratioAt(nMax) <= 1.25 * ratioAt(10)) : 'n/a';
      const slope = (i: 0 | 1, lo: number, hi: number) => fmt((synth[hi][i] - synth[lo][i]) / (hi - lo), 2);
      notes.push(`construct+synth ms per extra connection, library vs L1: ${slope(0, 10, 50)} vs ${slope(1, 10, 50)} (N 10→50), ${slope(0, 50, nMax)} vs ${slope(1, 50, nMax)} (N 50→${nMax})`);
      notes.push(`construct+synth CPU ms, least of the runs, library vs L1 (ratio): ${sizes.map((n) => `N=${n} ${fmt(synth[n][2])} vs ${fmt(synth[n][3])} (${fmt(synth[n][2] / synth[n][3], 2)})`).join(', ')}`);

      const lt1 = synthTemplate(libraryStack(1));
      const lt50 = synthTemplate(libraryStack(50));
      const ht1 = synthTemplate(handWrittenStack(1));
      const ht50 = synthTemplate(handWrittenStack(50));
      const perConn = (a: any, b: any, f: (t: any) => number) => (f(b) - f(a)) / 49;
      const libRes = perConn(lt1, lt50, count);
      const l1Res = perConn(ht1, ht50, count);
      const libBytes = perConn(lt1, lt50, (t) => JSON.stringify(t).length);
      const l1Bytes = perConn(ht1, ht50, (t) => JSON.stringify(t).length);
      rows.push(['CFN resources per connection', fmt(libRes), fmt(l1Res), fmt(libRes / l1Res, 2), '≤ 4', yes(libRes <= 4)]);
      rows.push(['connections per stack (500-resource limit)', String(nMax), '—', '—', '≥ 120', yes(nMax >= 120)]);
      rows.push(['template bytes per connection', String(Math.round(libBytes)), String(Math.round(l1Bytes)), ratioOrNa(libBytes, l1Bytes), '—', '']);
      notes.push(`per connection the library adds ${libTypes}`);

      const warnings = synthWarnings(libraryStack(nMax));
      const libraryWarning = warnings.find((w) => /connection/i.test(w));
      rows.push([`library warns near the limit (N=${nMax})`, libraryWarning ? 'yes' : 'no', '—', '—', 'says how many more fit', yes(!!libraryWarning && /\d/.test(libraryWarning))]);
      if (libraryWarning) notes.push(`warning at N=${nMax}: ${libraryWarning}`);

    }
    // 2. Cold require.
    if (on('require')) {
      const cdkLibDir = path.dirname(require.resolve('aws-cdk-lib/package.json'));
      const cdkHandler = path.join(cdkLibDir, 'custom-resource-handlers/dist/custom-resources/aws-custom-resource-handler/index.js');
      const [ours, theirs] = coldRequirePair(HANDLER_BUNDLE, cdkHandler, 11);
      rows.push(['cold require ms, handler vs AwsCustomResource', fmt(ours.require), fmt(theirs.require), fmt(ours.require / theirs.require, 2), '≤ 1.3×', yes(ours.require / theirs.require <= 1.3)]);
      rows.push(['  same, whole node process (start-up included)', fmt(ours.process), fmt(theirs.process), fmt(ours.process / theirs.process, 2), '—', '']);
      notes.push(`bundle bytes: handler ${fs.statSync(HANDLER_BUNDLE).size}, AwsCustomResource ${fs.statSync(cdkHandler).size} (its SDK clients load per event, ours are external)`);

    }
    // 3 + 4. Wait for a fresh key, then every call per lifecycle event.
    const aep = await AepStandIn.start();
    const aws = await AwsStandIn.start();
    try {
      if (on('lifecycle')) {
        const immediate = await measureKeyWait(aep, aws, workDir, 0);
        const propagating = await measureKeyWait(aep, aws, workDir, KEY_PROPAGATION_MS);
        const waitMs = propagating.waitMs ?? Number.NaN;
        const overshoot = waitMs - KEY_PROPAGATION_MS;
        rows.push([`wait for a fresh key, s (valid after ${KEY_PROPAGATION_MS / 1000} s)`, fmt(waitMs / 1000), fmt(KEY_PROPAGATION_MS / 1000), fmt(waitMs / KEY_PROPAGATION_MS, 2), '≤ propagation + 1 s', yes(overshoot <= 1000)]);
        rows.push(['Create wall time, 1 destination, s', fmt(propagating.createMs / 1000), fmt(immediate.createMs / 1000), fmt(propagating.createMs / immediate.createMs, 2), '—', '']);
        notes.push(`fresh key valid after ${KEY_PROPAGATION_MS} ms: ${propagating.failedProbes} failed key probes (STS or S3 listing), first accepted after ${waitMs} ms (production timing, jitter at its mean); `
        + `the same Create with a key valid at once took ${immediate.createMs} ms. Settle windows only follow an ambiguous POST (none here).`);

        const failures = Math.max(propagating.failedProbes, 1);
        const calls = await measureLifecycleCalls(aep, aws, workDir, failures);
        for (const [key, list] of [...calls.groups.entries()].sort(([a], [b]) => a.localeCompare(b))) {
          const avg = (f: (c: CallCounts) => number) => list.reduce((s, c) => s + f(c), 0) / list.length;
          const parts = {
            IMS: avg((c) => c.ims),
            SMcred: avg((c) => c.awsCredential),
            SM: avg((c) => c.otherSecrets),
            STS: avg((c) => c.stsOk + c.stsFailed),
            Flow: avg((c) => c.flow),
          };
          const total = Object.values(parts).reduce((a, b) => a + b, 0);
          const min = FLOW_MINIMUM[key];
          const cell = `${fmt(total)} (IMS ${fmt(parts.IMS)}, SM ${fmt(parts.SMcred)}+${fmt(parts.SM)}, STS ${fmt(parts.STS)}, Flow ${fmt(parts.Flow)})`;
          const [extra, why] = FLOW_BY_DESIGN[key] ?? [0, ''];
          const allowed = (min ?? 0) + extra;
          rows.push([`calls per ${key.replace('Custom::', '')} ×${list.length}`, cell, min === undefined ? '?' : `Flow ${min}`,
            min ? fmt(parts.Flow / min, 2) : '—', extra ? `Flow ≤ min + ${extra} (${why})` : 'Flow = minimum',
            min === undefined ? '?' : yes(parts.Flow <= allowed)]);
        }
        rows.push(['STS GetCallerIdentity per fresh IAM key', fmt(calls.probesPerKey), String(failures + 1), fmt(calls.probesPerKey / (failures + 1), 2), 'failed probes + 1', yes(calls.probesPerKey <= failures + 1)]);
        rows.push(['AEP credential reads per cold container', fmt(calls.credentialReads / calls.containers, 2), '1', fmt(calls.credentialReads / calls.containers, 2), '≤ 1', yes(calls.credentialReads <= calls.containers)]);
        rows.push(['IMS token requests per cold container', fmt(calls.imsTotal / calls.containers, 2), '1', fmt(calls.imsTotal / calls.containers, 2), '≤ 1', yes(calls.imsTotal <= calls.containers)]);
        notes.push(`lifecycle calls: example app, create → refresh → update → delete through the bundled handler; ${failures} failed probes per fresh IAM key `
          + `(what ${KEY_PROPAGATION_MS / 1000} s of propagation costs under production timing, at least 1); ${calls.containers} cold containers; `
          + `"SM a+b" = AEP credential reads + other secret reads${calls.untagged ? `; ${calls.untagged} calls outside any event` : ''}`);
      }
      // 5. Scale: destinations 1 → 10 → 100, in an empty sandbox and in one crowded with 10,000 foreign ones.
      const crowd = Number(process.env.BENCH_CROWD ?? 10_000);
      if (on('scale')) {
        const scale: ScaleRun[] = [];
        for (const [n, c] of [[1, 0], [10, 0], [100, 0], [1, crowd], [10, crowd]] as const) {
          scale.push(await measureScaleRun(aep, aws, workDir, n, c));
        }
        const per = (r: ScaleRun, f: (r: ScaleRun) => number) => f(r) / r.n;
        const at = (n: number, c: number) => scale.find((r) => r.n === n && r.crowd === c)!;
        const minimum = FLOW_MINIMUM[`${ResourceTypes.DESTINATION_CONNECTION}/Create`];
        for (const r of scale) {
          rows.push([`Create of ${r.n} destination(s), sandbox of ${r.crowd}: Flow requests per destination (list GETs)`,
            `${fmt(per(r, (x) => x.flow))} (${fmt(per(r, (x) => x.lists))})`, `Flow ${minimum}`, fmt(per(r, (x) => x.flow) / minimum, 2), '—', '']);
        }
        const linear = Math.abs(per(at(100, 0), (x) => x.flow) - per(at(10, 0), (x) => x.flow)) <= 0.5;
        rows.push(['Flow requests per destination, N=100 vs N=10', fmt(per(at(100, 0), (x) => x.flow)), fmt(per(at(10, 0), (x) => x.flow)),
          fmt(per(at(100, 0), (x) => x.flow) / per(at(10, 0), (x) => x.flow), 2), 'linear in N', yes(linear)]);
        const crowdFree = per(at(10, crowd), (x) => x.flow) <= per(at(10, 0), (x) => x.flow);
        rows.push([`Flow requests per destination, sandbox of ${crowd} vs empty (N=10)`, fmt(per(at(10, crowd), (x) => x.flow)), fmt(per(at(10, 0), (x) => x.flow)),
          fmt(per(at(10, crowd), (x) => x.flow) / per(at(10, 0), (x) => x.flow), 2), 'independent of sandbox size', yes(crowdFree)]);
        rows.push(['AWS calls per destination, N=100 vs N=10', fmt(per(at(100, 0), (x) => x.aws)), fmt(per(at(10, 0), (x) => x.aws)),
          fmt(per(at(100, 0), (x) => x.aws) / per(at(10, 0), (x) => x.aws), 2), 'linear in N', yes(Math.abs(per(at(100, 0), (x) => x.aws) - per(at(10, 0), (x) => x.aws)) <= 0.5)]);
        notes.push(`scale: stack Create wall ms ${scale.map((r) => `N=${r.n}/sandbox ${r.crowd}: ${r.createMs}`).join(', ')}; the crowd is ${crowd} foreign S3 destinations made in the UI (base + target connection and an audience export, Profile Store source connection + flow, each; no marker); every list pages at 100`);
        if (!crowdFree) {
          notes.push('NON-LINEAR: the adoption and twin lookups list every connection of the S3 destination spec (property=connectionSpec.id==…) and match the marker here, '
          + 'so each Create pages through the foreign connections of the sandbox (up to the 20-page cap, 2,000 items); a server-side filter that names the object (name==…) would keep it constant');
        }
      }
      // 6. Audiences 1 → 25 → 250 in one dataflow: its Create, adding one, removing one.
      if (on('audiences')) {
        const runs: AudienceRun[] = [];
        for (const [n, c] of [[1, 0], [25, 0], [250, 0], [250, crowd]] as const) runs.push(await measureAudienceRun(aep, aws, workDir, n, c));
        const run = (n: number, c = 0) => runs.find((r) => r.n === n && r.crowd === c)!;
        const cell = (e: EventCost) => `${e.flow} Flow + ${e.aws} AWS`;
        for (const r of runs) {
          rows.push([`audience dataflow of ${r.n}, sandbox of ${r.crowd}: Create (source conn. + flow)`, cell(r.create), cell(run(1).create),
            fmt(r.create.flow / run(1).create.flow, 2), 'Flow requests constant in audiences', yes(r.create.flow <= run(1).create.flow && r.create.aws <= run(1).create.aws)]);
        }
        for (const r of runs) {
          for (const [what, e] of [['adds one audience', r.add], ['removes one audience', r.remove]] as const) {
            rows.push([`  ${r.n} audiences, sandbox of ${r.crowd}: Update that ${what}`, `${cell(e)}, ${e.flowPatches} PATCH (${e.patchOps} op)`, '1 PATCH, 1 op',
              fmt(e.flowPatches, 2), 'exactly one PATCH of one op', yes(e.flowPatches === 1 && e.patchOps === 1)]);
          }
        }
        const growth = (f: (r: AudienceRun) => number) => `${f(run(1))} → ${f(run(25))} → ${f(run(250))}`;
        notes.push(`audiences 1 → 25 → 250: Create Flow requests ${growth((r) => r.create.flow)}, AWS calls ${growth((r) => r.create.aws)}; `
          + `Update +1: ${growth((r) => r.add.flow)}, −1: ${growth((r) => r.remove.flow)}; the Create's audiences go in one PATCH (${growth((r) => r.create.patchOps)} ops)`);
        notes.push(`Update adding one audience (N=250): ${run(250).add.shapes.join(', ')}: the GET is forced by the API (the etag for If-Match, and the stored selectors whose index a `
          + 'remove addresses); the list is the twin lookup by design (a late-applied POST of an earlier Create); no spec read (per container, done in the Create)');
        notes.push(`Update removing one audience (N=250): ${run(250).remove.shapes.join(', ')}`);
        notes.push(`Create of the dataflow (N=250, sandbox of ${crowd}): ${run(250, crowd).create.shapes.join(', ')}`);
        const warnings = synthWarnings(libraryStack(1, { name: 'Audiences251', audiences: Array.from({ length: 251 }, (_, i) => `audience-${i}`) }));
        const guardrail = warnings.find((w) => /250/.test(w));
        rows.push(['251 audiences in one dataflow (AEP guardrail 250, soft)', guardrail ? 'synth warning' : 'nothing', '—', '—', 'said at synth', yes(!!guardrail)]);
      }
      // 7. Deploy wall time with AEP's latency modelled, against the critical-path bound.
      if (on('latency')) {
        const destinations = 10;
        const audiences = 25;
        const l = await measureDeployLatency(aep, aws, workDir, destinations, audiences);
        rows.push([`deploy wall s, ${destinations} destinations + dataflow of ${audiences}, AEP ${AEP_LATENCY_MS} ms/request, key valid after ${KEY_PROPAGATION_MS / 1000} s`,
          fmt(l.wallMs / 1000, 2), fmt(l.boundMs / 1000, 2), fmt(l.wallMs / l.boundMs, 2), 'critical-path bound ×1.5 at most', yes(l.wallMs <= 1.5 * l.boundMs)]);
        notes.push(`modelled deploy: bound = longest dependency chain of ${l.customResources} custom resources: ${l.path.join(' → ')}; `
          + `one custom resource at a time it would be ≥ ${fmt(l.serialMs / 1000, 1)} s, so the ${fmt(l.wallMs / 1000, 1)} s measured show CloudFormation's parallelism (simulator: scheduler.ts runGraph)`);
      }
    } finally {
      await Promise.all([aep.close(), aws.close()]);
    }
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }

  const header: Row = ['measure', 'cdk-aep-s3', 'baseline', 'ratio', 'goal (issues 12, 19)', 'met'];
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r: Row) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log('\nBaselines: a hand-written L1 stack with the same resources; aws-cdk-lib\'s AwsCustomResource handler bundle;');
  console.log('the key\'s own propagation time; the fewest Flow Service requests an event needs.\n');
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  rows.forEach((r) => console.log(line(r)));
  console.log('');
  notes.forEach((n) => console.log(`- ${n}`));
}

// Imported (a profiling script reusing the stacks), it only defines them.
if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
