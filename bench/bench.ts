/**
 * `npm run bench`: what the library costs, as ratios measured in one run on this machine.
 *
 *  - synth time for N = 1, 10, 50 connections vs a hand-written L1 stack with the same resources
 *  - CloudFormation resources and template bytes per connection
 *  - handler Lambdas per stack
 *  - minified handler bundle bytes vs aws-cdk-lib's own AwsCustomResource handler
 *  - AEP HTTP requests per lifecycle event vs the minimum the API allows
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, CfnCustomResource, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { runExampleLifecycle } from '../offline-world/cloudformation/example-lifecycle';
import { AepStandIn } from '../offline-world/stand-in/aep';
import { AwsStandIn } from '../offline-world/stand-in/aws';
import { AepS3Destination, AepSandbox, S3DestinationAuth } from '../src';
import { ResourceTypes } from '../src/private/contract';

const ROOT = path.resolve(__dirname, '..');
const ENV = { account: '111122223333', region: 'us-east-1' };

/** N access-key destinations through the library. */
function libraryStack(n: number): Stack {
  const app = new App();
  const stack = new Stack(app, `Lib${n}`, { env: ENV });
  const bucket = new s3.Bucket(stack, 'Bucket');
  const sandbox = new AepSandbox({ credentials: secretsmanager.Secret.fromSecretNameV2(stack, 'Creds', 'aep/oauth') });
  for (let i = 0; i < n; i++) {
    new AepS3Destination(stack, `Dest${i}`, { sandbox, bucket, folderPath: `aep/d${i}/%SEGMENT_NAME%`, auth: S3DestinationAuth.accessKey() });
  }
  return stack;
}

/**
 * The same resources written by hand with L1 constructs: per connection an IAM user, its access
 * key, a secret, the user's policy, and two custom resources; once per stack the handler, the
 * provider framework function, their roles, policies and log groups.
 */
function handWrittenStack(n: number): Stack {
  const app = new App();
  const stack = new Stack(app, `L1${n}`, { env: ENV });
  const bucket = new s3.CfnBucket(stack, 'Bucket');
  const lambdaTrust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] };
  const handlerRole = new iam.CfnRole(stack, 'HandlerRole', { assumeRolePolicyDocument: lambdaTrust });
  const handlerLogs = new logs.CfnLogGroup(stack, 'HandlerLogs', { retentionInDays: 30 });
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
  const secretArns: string[] = ['arn:aws:secretsmanager:us-east-1:111122223333:secret:aep/oauth-??????'];
  for (let i = 0; i < n; i++) {
    const user = new iam.CfnUser(stack, `User${i}`);
    new iam.CfnPolicy(stack, `UserPolicy${i}`, {
      policyName: 'aep',
      users: [user.ref],
      policyDocument: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject', 's3:ListMultipartUploadParts'], Resource: `${bucket.attrArn}/aep/d${i}/*` },
          { Effect: 'Allow', Action: 's3:ListBucket', Resource: bucket.attrArn, Condition: { StringLike: { 's3:prefix': [`aep/d${i}/*`] } } },
          { Effect: 'Allow', Action: 's3:GetBucketLocation', Resource: bucket.attrArn },
        ],
      },
    });
    const key = new iam.CfnAccessKey(stack, `Key${i}`, { userName: user.ref });
    const secret = new secretsmanager.CfnSecret(stack, `Secret${i}`, {
      description: `Access key AEP uses to write to s3://<bucket>/aep/d${i}/ (cdk-aep-s3, L1${n}/Dest${i})`,
      secretString: `{"accessKeyId":"${key.ref}","secretAccessKey":"${key.attrSecretAccessKey}"}`,
    });
    secretArns.push(secret.ref);
    // The same information the library's custom resources carry, written out by hand.
    const common = {
      ServiceTimeout: '600',
      ContractVersion: '1',
      AepCredentialsSecretArn: secretArns[0],
      AepSandboxName: 'prod',
      AepFlowServiceUrl: 'https://platform.adobe.io/data/foundation/flowservice',
      AepImsUrl: 'https://ims-na1.adobelogin.com',
      Name: `cdk-L1${n}-Dest${i}-Connection`,
      Description: `Managed by AWS CDK (cdk-aep-s3): L1${n}/Dest${i}`,
      ConnectionSpecId: '4fce964d-3f37-408f-9778-e597338a21ee',
      RemovalPolicy: 'delete',
    };
    const conn = new CfnCustomResource(stack, `Conn${i}`, { serviceToken: framework.attrArn });
    Object.entries({
      ...common,
      AuthSpecName: 'Access Key',
      AuthParams: {},
      AuthSecretArn: secret.ref,
      AuthSecretFields: { s3AccessKey: 'accessKeyId', s3SecretKey: 'secretAccessKey' },
      ChangeToken: key.ref,
      VerifyAwsKey: 'true',
    }).forEach(([k, v]) => conn.addPropertyOverride(k, v));
    const target = new CfnCustomResource(stack, `Target${i}`, { serviceToken: framework.attrArn });
    Object.entries({
      ...common,
      BaseConnectionId: conn.getAtt('ConnectionId'),
      Params: { mode: 'Server-to-server', bucketName: bucket.ref, path: `aep/d${i}/%SEGMENT_NAME%`, fileType: 'CSV', compression: 'NONE' },
    }).forEach(([k, v]) => target.addPropertyOverride(k, v));
  }
  new iam.CfnPolicy(stack, 'HandlerPolicy', {
    policyName: 'handler',
    roles: [handlerRole.ref],
    policyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: secretArns }] },
  });
  return stack;
}

function synthTemplate(stack: Stack): any {
  const assembly = (stack.node.root as App).synth();
  return assembly.getStackByName(stack.stackName).template;
}

/** Median wall time of `runs` synths (fresh app each), after one warm-up. */
function timeSynth(make: () => Stack, runs = 7): number {
  synthTemplate(make());
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const stack = make();
    const t0 = process.hrtime.bigint();
    synthTemplate(stack);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** Template bytes without `Metadata` (construct paths, cdk-nag suppression reasons). */
function bytesWithoutMetadata(template: any): number {
  const resources = Object.fromEntries(Object.entries<any>(template.Resources).map(([k, v]) => {
    const { Metadata: _unused, ...rest } = v;
    return [k, rest];
  }));
  return JSON.stringify({ ...template, Resources: resources }).length;
}

function count(template: any, pred: (r: any) => boolean = () => true): number {
  return Object.values<any>(template.Resources).filter(pred).length;
}

async function main(): Promise<void> {
  const rows: string[][] = [];
  const row = (...cells: Array<string | number>) => rows.push(cells.map(String));

  // 1. Synth time, resources, bytes.
  const sizes = [1, 10, 50];
  const lib: Record<number, { ms: number; resources: number; bytes: number; bare: number; handlers: number }> = {};
  const l1: Record<number, { ms: number; resources: number; bytes: number; bare: number }> = {};
  for (const n of sizes) {
    const lt = synthTemplate(libraryStack(n));
    const ht = synthTemplate(handWrittenStack(n));
    lib[n] = {
      ms: timeSynth(() => libraryStack(n)),
      resources: count(lt),
      bytes: JSON.stringify(lt).length,
      bare: bytesWithoutMetadata(lt),
      handlers: count(lt, (r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Handler === 'index.handler'),
    };
    l1[n] = { ms: timeSynth(() => handWrittenStack(n)), resources: count(ht), bytes: JSON.stringify(ht).length, bare: bytesWithoutMetadata(ht) };
  }
  row('metric', 'N=1', 'N=10', 'N=50');
  row('synth ms, library (median of 7)', ...sizes.map((n) => lib[n].ms.toFixed(1)));
  row('synth ms, hand-written L1', ...sizes.map((n) => l1[n].ms.toFixed(1)));
  row('synth time ratio library / L1', ...sizes.map((n) => (lib[n].ms / l1[n].ms).toFixed(2)));
  row('CFN resources, library', ...sizes.map((n) => lib[n].resources));
  row('CFN resources, L1', ...sizes.map((n) => l1[n].resources));
  row('template bytes, library', ...sizes.map((n) => lib[n].bytes));
  row('template bytes, L1', ...sizes.map((n) => l1[n].bytes));
  row('template bytes w/o Metadata, library', ...sizes.map((n) => lib[n].bare));
  row('template bytes w/o Metadata, L1', ...sizes.map((n) => l1[n].bare));
  row('handler Lambdas per stack', ...sizes.map((n) => lib[n].handlers));
  const perConn = (m: Record<number, { resources: number; bytes: number; bare: number }>) => ({
    resources: (m[50].resources - m[1].resources) / 49,
    bytes: (m[50].bytes - m[1].bytes) / 49,
    bare: (m[50].bare - m[1].bare) / 49,
  });
  const lp = perConn(lib);
  const hp = perConn(l1);

  // 2. Bundle size.
  const ours = fs.statSync(path.join(ROOT, 'assets/handler/aep.lambda/index.js')).size;
  const cdkLibDir = path.dirname(require.resolve('aws-cdk-lib/package.json'));
  const cdkHandler = fs.statSync(path.join(cdkLibDir, 'custom-resource-handlers/dist/custom-resources/aws-custom-resource-handler/index.js')).size;

  // 3. Requests per lifecycle event (through the bundled handler against the stand-ins).
  const aep = await AepStandIn.start();
  const aws = await AwsStandIn.start();
  let requests: Array<[string, number, number, number]> = [];
  try {
    const workDir = path.join(ROOT, '.demo', 'bench');
    const report = await runExampleLifecycle({ aep, aws, workDir, keyPropagationFailures: 0 });
    // Minimum Flow Service calls per event (IMS token excluded: cached per container). Create pays one
    // extra GET by design: the adopt-by-marker lookup that makes a retried Create idempotent.
    const minimum: Record<string, number> = {
      [`${ResourceTypes.CONNECTION}/Create`]: 1, // POST
      [`${ResourceTypes.CONNECTION}/Update`]: 2, // GET (etag) + PATCH with If-Match
      [`${ResourceTypes.CONNECTION}/Delete`]: 1, // DELETE
      [`${ResourceTypes.TARGET_CONNECTION}/Create`]: 1,
      [`${ResourceTypes.TARGET_CONNECTION}/Update`]: 2,
      [`${ResourceTypes.TARGET_CONNECTION}/Delete`]: 1,
      [`${ResourceTypes.IAM_ROLE_LOOKUP}/Create`]: 1,
      ['AWS::Events::Rule/Refresh']: 2, // GET (etag) + PATCH
    };
    const groups = new Map<string, number[]>();
    for (const inv of report.invocations) {
      const key = `${inv.resourceType}/${inv.requestType}`;
      if (!(key in minimum)) continue;
      groups.set(key, [...(groups.get(key) ?? []), inv.aepRequests]);
    }
    const imsCalls = aep.requests.filter((r) => r.path.startsWith('/ims/')).length;
    requests = [...groups.entries()].map(([k, v]) => [k, v.length, v.reduce((a, b) => a + b, 0) / v.length, minimum[k]]);
    // One token per handler container: the run loads two assemblies, i.e. two cold containers.
    requests.push(['IMS token requests (2 cold containers)', 1, imsCalls, 2]);
  } finally {
    await Promise.all([aep.close(), aws.close()]);
  }

  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const print = (r: string[]) => console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
  console.log('\n## Synthesis (one stack, N access-key destinations on one bucket)\n');
  rows.forEach(print);
  console.log(`\nper connection: library ${lp.resources.toFixed(1)} resources, ${Math.round(lp.bytes)} template bytes (${Math.round(lp.bare)} without Metadata);`
    + ` L1 ${hp.resources.toFixed(1)} resources, ${Math.round(hp.bytes)} bytes (${Math.round(hp.bare)} without Metadata);`
    + ` ratio ${(lp.bytes / hp.bytes).toFixed(2)} (${(lp.bare / hp.bare).toFixed(2)} without Metadata)`);
  console.log('\n## Handler bundle (minified)\n');
  console.log(`cdk-aep-s3 handler ${ours} bytes; aws-cdk-lib AwsCustomResource handler ${cdkHandler} bytes; ratio ${(ours / cdkHandler).toFixed(2)}`);
  console.log('\n## AEP HTTP requests per lifecycle event (example app, bundled handler, stand-in)\n');
  console.log(`${'event'.padEnd(40)} ${'events'.padStart(6)} ${'avg req'.padStart(8)} ${'minimum'.padStart(8)} ${'ratio'.padStart(6)}`);
  for (const [k, n, avg, min] of requests) {
    console.log(`${k.padEnd(40)} ${String(n).padStart(6)} ${avg.toFixed(2).padStart(8)} ${String(min).padStart(8)} ${(avg / min).toFixed(2).padStart(6)}`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
