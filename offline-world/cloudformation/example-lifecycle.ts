import * as fs from 'fs';
import * as path from 'path';
import { resolve } from './intrinsics';
import { CloudFormationSimulator, InvocationRecord, LeftBehind, PropertyUsage, readStack, SynthesizedStack } from './simulator';
import { buildExampleApp } from '../../examples/app';
import { AepEndpoints } from '../../src';
import { Attributes, ResourceTypes, CommonProps } from '../../src/private/contract';
import { AepStandIn, RecordedRequest } from '../stand-in/aep';
import { AwsCall, AwsStandIn } from '../stand-in/aws';

/** Handler timing knobs for offline runs: real retries and backoff, in milliseconds. */
export const OFFLINE_KNOBS: Record<string, string> = {
  AEP_HTTP_TIMEOUT_MS: '500',
  AEP_RETRY_BASE_MS: '10',
  AEP_RETRY_MAX_ATTEMPTS: '5',
  AEP_DEADLINE_MS: '8000',
  AWS_KEY_PROBE_INTERVAL_MS: '10',
  AWS_KEY_PROBE_DEADLINE_MS: '5000',
  AWS_GRANT_PROPAGATION_MS: '3000',
  AWS_GRANT_RETRY_BASE_MS: '20',
};

/** The example app's stack. */
export const EXAMPLE_STACK = 'AepS3Example';

/** Everything one create → refresh → update → delete replay observed. */
export interface LifecycleReport {
  readonly stackName: string;
  readonly resourcesPerStack: number;
  readonly customResources: Record<string, number>;
  readonly invocations: InvocationRecord[];
  readonly connectionsAfterCreate: number;
  readonly targetConnectionsAfterCreate: number;
  readonly connectionIdsStableAcrossUpdate: boolean;
  readonly connectionsCreated: number;
  readonly connectionsUpdated: number;
  readonly connectionsDeleted: number;
  readonly refreshRuns: number;
  readonly finalConnections: number;
  readonly finalTargetConnections: number;
  readonly validationFailures: string[];
  readonly logs: string[];
  readonly templates: string[];
  readonly assemblyDirs: string[];
  /** Properties emitted per custom-resource type vs read by the handler. */
  readonly usage: PropertyUsage;
  /** Secret values that existed during the run (for leak scans): AWS secret keys, session tokens, IMS client secret. */
  readonly secretValues: string[];
  /** Physical resources a cleanup could not delete (CloudFormation ignores these failures). */
  readonly leftBehind: LeftBehind[];
  /** What the stand-ins recorded during the create phase (live-spec reads, reachability checks). */
  readonly createPhase: { readonly aepRequests: RecordedRequest[]; readonly awsCalls: AwsCall[] };
  /** The stack id CloudFormation gave the example stack (declared in the AWS stand-in while it exists). */
  readonly stackId: string;
  /** Full ARN of the AEP API credential secret the stack's handler read. */
  readonly credentialsSecretArn: string;
}

/** Options of {@link runExampleLifecycle}. */
export interface LifecycleOptions {
  readonly aep: AepStandIn;
  readonly aws: AwsStandIn;
  /** Where the two cloud assemblies are written (wiped first). */
  readonly workDir: string;
  /** Failed STS probes for each new IAM key (IAM propagation delay). */
  readonly keyPropagationFailures?: number;
  /**
   * Whether independent resources run concurrently, as in CloudFormation (default). Off, one
   * operation at a time: every request then belongs to the one invocation running (bench/bench.ts
   * counts calls per event so).
   */
  readonly parallel?: boolean;
}

/** Synthesizes the example app for one deployment (a fresh directory each time). */
export function synthExample(outdir: string, aep: AepStandIn, keySerial: number, exportDescription: string): SynthesizedStack {
  fs.rmSync(outdir, { recursive: true, force: true });
  const app = buildExampleApp(outdir, {
    endpoints: AepEndpoints.custom({ flowServiceUrl: aep.flowServiceUrl, imsUrl: aep.imsUrl }),
    imsOrgId: aep.credentials.orgId,
    keySerial,
    exportDescription,
    // The second deployment also changes one audience's schedule and the ingestion interval.
    revision: keySerial,
  });
  app.synth();
  return readStack(outdir, EXAMPLE_STACK);
}

/**
 * Replays CloudFormation's lifecycle for the example app through the bundled handler:
 * Create (dependency order) → one scheduled refresh → Update (key rotation + description change)
 * → Delete (reverse order). Every AWS SDK call lands on the AWS stand-in, every AEP call on the
 * AEP stand-in.
 */
export async function runExampleLifecycle(options: LifecycleOptions): Promise<LifecycleReport> {
  const { aep, aws, workDir } = options;
  const logs: string[] = [];
  const savedEnv = { ...process.env };
  Object.assign(process.env, aws.env(), OFFLINE_KNOBS);
  try {
    const first = synthExample(path.join(workDir, 'deploy-1'), aep, 1, 'Daily audience exports');
    const credentialsSecretArn = seedCredentials(first, aep, aws);
    const aepBefore = aep.requests.length;
    const awsBefore = aws.calls.length;

    const sim = new CloudFormationSimulator(EXAMPLE_STACK, {
      aws,
      // Flow Service calls only: the IMS token is fetched once per container and reported apart.
      aepRequestCount: () => aep.requests.filter((r) => !r.path.startsWith('/ims/')).length,
      account: '111122223333',
      region: 'us-east-1',
      keyPropagationFailures: options.keyPropagationFailures ?? 2,
      logSink: logs,
      parallel: options.parallel,
    });

    await sim.create(first, 'create');
    const createPhase = { aepRequests: structuredClone(aep.requests.slice(aepBefore)), awsCalls: structuredClone(aws.calls.slice(awsBefore)) };
    // CloudFormation knows the stack while it exists (the doctor command asks it by name).
    const stackId = sim.stackId;
    aws.putStack(EXAMPLE_STACK, { stackId });
    const secretValues = new Set<string>([aep.credentials.clientSecret]);
    collectStoredSecrets(aep, secretValues);
    const connectionsAfterCreate = aep.connections().length;
    const targetConnectionsAfterCreate = aep.targetConnections().length;
    const idsBefore = connectionIds(sim);

    const refreshRuns = await sim.runSchedules('refresh');

    const second = synthExample(path.join(workDir, 'deploy-2'), aep, 2, 'Daily audience exports (rotated key)');
    collectStoredSecrets(aep, secretValues);
    await sim.update(second, 'update');
    collectStoredSecrets(aep, secretValues);
    const idsAfter = connectionIds(sim);

    await sim.delete('delete');
    aws.deleteStack(EXAMPLE_STACK);

    const templates = [first, second].map((s) => JSON.stringify(s.template));
    const count = (type: 'Create' | 'Update' | 'Delete') => sim.invocations
      .filter((i) => i.requestType === type && !i.error)
      .filter((i) => CONNECTION_TYPES.includes(i.resourceType)).length;
    const customResources: Record<string, number> = {};
    for (const def of Object.values<any>(first.template.Resources)) {
      if (def.Type.startsWith('Custom::')) customResources[def.Type] = (customResources[def.Type] ?? 0) + 1;
    }
    return {
      stackName: EXAMPLE_STACK,
      resourcesPerStack: Object.keys(first.template.Resources).length,
      customResources,
      invocations: sim.invocations,
      connectionsAfterCreate,
      targetConnectionsAfterCreate,
      connectionIdsStableAcrossUpdate: JSON.stringify(idsBefore) === JSON.stringify(idsAfter),
      connectionsCreated: count('Create'),
      connectionsUpdated: count('Update'),
      connectionsDeleted: count('Delete'),
      refreshRuns,
      finalConnections: aep.connections().length,
      finalTargetConnections: aep.targetConnections().length,
      validationFailures: [...aep.validationFailures],
      logs,
      templates,
      assemblyDirs: [first.assemblyDir, second.assemblyDir],
      usage: sim.usage,
      secretValues: [...secretValues],
      leftBehind: [...sim.leftBehind],
      createPhase,
      stackId,
      credentialsSecretArn,
    };
  } finally {
    for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
    Object.assign(process.env, savedEnv);
  }
}

/** Stores the AEP API credential under the ARN the template references (an imported secret); returns its full ARN. */
function seedCredentials(stack: SynthesizedStack, aep: AepStandIn, aws: AwsStandIn): string {
  const arns = new Set<string>();
  for (const def of Object.values<any>(stack.template.Resources)) {
    const value = def.Properties?.[CommonProps.CREDENTIALS_SECRET_ARN];
    if (def.Type.startsWith('Custom::Aep') && value) {
      arns.add(String(resolve(value, pseudoOnly(stack.stackName))));
    }
  }
  // The example imports the secret with `fromSecretNameV2`, so the template holds a partial ARN;
  // in the account the secret has the 6-character suffix Secrets Manager appends (IAM policies
  // are evaluated against that full ARN).
  const stored = [...arns].map((arn) => aws.putSecret(`${arn}-Ab12Cd`, JSON.stringify(aep.credentials)));
  if (stored.length !== 1) throw new Error(`expected one AEP credential secret in the example stack, found ${stored.length}`);
  return stored[0];
}

function pseudoOnly(stackName: string) {
  const pseudo: Record<string, string> = {
    'AWS::Region': 'us-east-1', 'AWS::AccountId': '111122223333', 'AWS::Partition': 'aws', 'AWS::URLSuffix': 'amazonaws.com', 'AWS::StackName': stackName,
  };
  return {
    ref: (id: string) => {
      if (id in pseudo) return pseudo[id];
      throw new Error(`credentials ARN references ${id}: expected an imported secret`);
    },
    getAtt: (id: string) => { throw new Error(`credentials ARN references ${id}`); },
  };
}

/** The secret auth params AEP holds right now (the stand-in's unmasked view). */
function collectStoredSecrets(aep: AepStandIn, out: Set<string>): void {
  for (const c of aep.connections()) {
    const params = (c.auth?.params ?? {}) as Record<string, unknown>;
    for (const key of ['s3SecretKey', 's3SessionToken']) {
      if (typeof params[key] === 'string') out.add(params[key] as string);
    }
  }
}

/** Custom resource types that hold AEP connections (the destination's one carries base and target). */
const CONNECTION_TYPES: readonly string[] = [ResourceTypes.CONNECTION, ResourceTypes.TARGET_CONNECTION, ResourceTypes.DESTINATION_CONNECTION];

function connectionIds(sim: CloudFormationSimulator): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of sim.resources()) {
    if (!CONNECTION_TYPES.includes(r.type)) continue;
    out[r.logicalId] = r.physicalId;
    const target = sim.resource(r.logicalId)?.attributes?.[Attributes.TARGET_CONNECTION_ID];
    if (r.type === ResourceTypes.DESTINATION_CONNECTION) out[`${r.logicalId}.${Attributes.TARGET_CONNECTION_ID}`] = String(target);
  }
  return out;
}
