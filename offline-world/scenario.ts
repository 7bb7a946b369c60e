/**
 * One lifecycle scenario in the offline world: both stand-ins, the CloudFormation simulator running
 * the bundled handler, apps synthesized per deployment, and the invariants checked afterwards
 * (AEP holds exactly what the stack owns, every key AEP holds still works, no secret piece
 * anywhere a person could read).
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { OFFLINE_KNOBS } from './cloudformation/example-lifecycle';
import { CloudFormationSimulator, OperationResult, readStack, SynthesizedStack } from './cloudformation/simulator';
import { aepRecordingTexts, checkWorldInvariants } from './invariants';
import { AepEndpoints, AepSandbox } from '../src';
import { AepStandIn } from './stand-in/aep';
import { AwsStandIn } from './stand-in/aws';
import { contractFailures } from './stand-in/contract-check';
import { Attributes, DataflowResourceTypes, ResourceTypes } from '../src/private/contract';

/** Account and region every scenario stack deploys to. */
export const SCENARIO_ENV = { account: '111122223333', region: 'us-east-1' };

/** What a scenario's app builder gets: the stack and a sandbox on the stand-in. */
export interface ScenarioScope {
  readonly stack: Stack;
  /**
   * A sandbox whose credentials secret is imported by name (seeded in the AWS stand-in) unless
   * `credentials` gives one, of the stand-in credential's IMS org unless `imsOrgId` names another (`null`: none).
   */
  sandbox(options?: {
    sandboxName?: string; credentialsSecretName?: string; imsOrgId?: string | null; credentials?: secretsmanager.ISecret;
  }): AepSandbox;
}

/** Options of {@link ScenarioWorld.start}. */
export interface ScenarioOptions {
  /** Failed STS probes for each new IAM key (IAM propagation). Default 1. */
  readonly keyPropagationFailures?: number;
  /** Scales every function Timeout (the offline knobs use short timers). Default 1. */
  readonly timeScale?: number;
  /** IAM propagation delay of policy changes, in ms (see the simulator's `iamPropagationMs`). Default 0. */
  readonly iamPropagationMs?: number;
}

/** Default name of the AEP credentials secret the scenarios import. */
export const CREDENTIALS_SECRET = 'aep/oauth-server-to-server';

/** Another stack deployed into the same world (see {@link ScenarioWorld.addStack}). */
export interface ScenarioStack {
  readonly stackName: string;
  readonly env: { readonly account: string; readonly region: string };
  readonly sim: CloudFormationSimulator;
  /** Creates or updates this stack (never throws on a rollback). */
  deploy(build: (scope: ScenarioScope) => void, phase?: string): Promise<OperationResult>;
  /** Deletes this stack. */
  destroy(): Promise<OperationResult>;
}

/** Both stand-ins, one simulated stack, and everything needed to judge the world afterwards. */
export class ScenarioWorld {
  /** Starts the stand-ins and points the handler's SDK clients and timing knobs at them. */
  static async start(stackName: string, options: ScenarioOptions = {}): Promise<ScenarioWorld> {
    const [aep, aws] = await Promise.all([AepStandIn.start(), AwsStandIn.start()]);
    return new ScenarioWorld(stackName, aep, aws, options);
  }

  /** The handler's and the refresh function's output (JSON lines). */
  readonly logs: string[] = [];
  readonly sim: CloudFormationSimulator;
  /** Every template deployed, for leak scans. */
  readonly templates: string[] = [];
  /** Every secret value that existed during the scenario (no 8+ character piece may leak). */
  readonly secrets = new Set<string>();
  /**
   * Secrets whose pieces are public by construction (an `s3Role` ARN: partition, account, and a
   * role name CloudFormation derives from the stack and logical id): only the whole value may not appear.
   */
  readonly wholeSecrets = new Set<string>();
  /** Results of every deploy/destroy, for leak scans of CloudFormation's status reasons. */
  readonly results: OperationResult[] = [];
  private readonly workDir: string;
  private readonly savedEnv: Record<string, string | undefined> = {};
  private deployments = 0;
  /** Stacks added with {@link addStack}: their objects count as owned too. */
  private readonly others: ScenarioStack[] = [];
  private readonly options: ScenarioOptions;

  private constructor(readonly stackName: string, readonly aep: AepStandIn, readonly aws: AwsStandIn, options: ScenarioOptions) {
    // Inside the repository: the bundle's `@aws-sdk/*` externals (the Lambda runtime's SDK) resolve
    // from its node_modules, as they would from the runtime.
    const root = path.join(__dirname, '..', '.demo');
    fs.mkdirSync(root, { recursive: true });
    this.workDir = fs.mkdtempSync(path.join(root, 'scenario-'));
    for (const [key, value] of Object.entries({ ...aws.env(), ...OFFLINE_KNOBS })) {
      this.savedEnv[key] = process.env[key];
      process.env[key] = value;
    }
    this.secrets.add(aep.credentials.clientSecret);
    this.options = options;
    this.seedCredentials(CREDENTIALS_SECRET);
    this.sim = this.simulator(stackName, SCENARIO_ENV);
  }

  private simulator(stackName: string, env: { account: string; region: string }): CloudFormationSimulator {
    return new CloudFormationSimulator(stackName, {
      aws: this.aws,
      aepRequestCount: () => this.aep.requests.filter((r) => !r.path.startsWith('/ims/')).length,
      account: env.account,
      region: env.region,
      keyPropagationFailures: this.options.keyPropagationFailures ?? 1,
      logSink: this.logs,
      timeScale: this.options.timeScale,
      iamPropagationMs: this.options.iamPropagationMs,
      // Every event in a fresh container: a grant that is missing when a cold container must read
      // the credentials again is found, not hidden by a warm container's cache.
      containers: 'cold',
    });
  }

  /**
   * Another stack against the same stand-ins (the same AEP sandbox), e.g. one of the same name in
   * another region or account. Its AEP credential secret is seeded in its own region and account.
   */
  addStack(stackName: string, env: { account: string; region: string }): ScenarioStack {
    this.seedCredentials(CREDENTIALS_SECRET, env);
    const sim = this.simulator(stackName, env);
    const stack: ScenarioStack = {
      stackName,
      env,
      sim,
      deploy: async (build, phase) => {
        const result = await sim.deploy(this.synth(build, { stackName, env }), phase);
        this.results.push(result);
        this.collectSecrets();
        return result;
      },
      destroy: async () => {
        const result = await sim.destroy();
        this.results.push(result);
        return result;
      },
    };
    this.others.push(stack);
    return stack;
  }

  /**
   * Stores the AEP credential as the secret `name` (with the 6-character suffix Secrets Manager
   * appends; stacks import it by name, so policies hold the partial ARN).
   */
  seedCredentials(name: string, env: { account: string; region: string } = SCENARIO_ENV): string {
    return this.aws.putSecret(`arn:aws:secretsmanager:${env.region}:${env.account}:secret:${name}-Ab12Cd`, JSON.stringify(this.aep.credentials));
  }

  /** Synthesizes the app `build` describes into a fresh cloud assembly. */
  synth(
    build: (scope: ScenarioScope) => void,
    target: { stackName: string; env: { account: string; region: string } } = { stackName: this.stackName, env: SCENARIO_ENV },
  ): SynthesizedStack {
    const outdir = path.join(this.workDir, `deploy-${++this.deployments}`);
    const app = new App({ outdir });
    const stack = new Stack(app, target.stackName, { env: target.env });
    const endpoints = AepEndpoints.custom({ flowServiceUrl: this.aep.flowServiceUrl, imsUrl: this.aep.imsUrl });
    let n = 0;
    build({
      stack,
      sandbox: (options = {}) => new AepSandbox({
        credentials: options.credentials ?? secretsmanager.Secret.fromSecretNameV2(stack, `AepCredentials${++n}`, options.credentialsSecretName ?? CREDENTIALS_SECRET),
        sandboxName: options.sandboxName ?? 'prod',
        endpoints,
        imsOrgId: options.imsOrgId === null ? undefined : options.imsOrgId ?? this.aep.credentials.orgId,
      }),
    });
    app.synth();
    const synthesized = readStack(outdir, target.stackName);
    this.templates.push(JSON.stringify(synthesized.template));
    return synthesized;
  }

  /**
   * Creates or updates the stack (never throws on a rollback: the result says what happened).
   * `transform` rewrites the synthesized template first (e.g. into what an earlier library version made).
   */
  async deploy(build: (scope: ScenarioScope) => void, phase?: string, transform?: (template: any) => any): Promise<OperationResult> {
    const synthesized = this.synth(build);
    const stack = transform ? { ...synthesized, template: transform(synthesized.template) } : synthesized;
    if (transform) this.templates.push(JSON.stringify(stack.template));
    const result = await this.sim.deploy(stack, phase);
    this.results.push(result);
    this.collectSecrets();
    return result;
  }

  /** Deletes the stack. */
  async destroy(): Promise<OperationResult> {
    const result = await this.sim.destroy();
    this.results.push(result);
    return result;
  }

  /** AEP ids of the connections and target connections the stack owns now. */
  owned(): string[] {
    return [this.sim, ...this.others.map((o) => o.sim)].flatMap((sim) => this.ownedBy(sim));
  }

  private ownedBy(sim: CloudFormationSimulator): string[] {
    return sim.resources()
      .filter((r) => r.type === ResourceTypes.CONNECTION || r.type === ResourceTypes.TARGET_CONNECTION
        || r.type === DataflowResourceTypes.SOURCE_CONNECTION || r.type === DataflowResourceTypes.DATASET_TARGET_CONNECTION
        || r.type === DataflowResourceTypes.FLOW || r.type === ResourceTypes.DESTINATION_CONNECTION)
      // A destination connection owns its base and its target connection (physical id `<base>` or
      // `<base>/<target>` after a target replacement; the attributes name both).
      .flatMap((r) => r.type === ResourceTypes.DESTINATION_CONNECTION
        ? [r.physicalId.split('/')[0], String(sim.resource(r.logicalId)?.attributes?.[Attributes.TARGET_CONNECTION_ID])]
        : [r.physicalId]);
  }

  /** Remembers the secret values AEP and Secrets Manager hold now (they must never leak later). */
  collectSecrets(): void {
    for (const c of this.aep.connections()) {
      for (const [k, v] of Object.entries(c.auth?.params ?? {})) {
        if (['s3SecretKey', 's3SessionToken'].includes(k) && typeof v === 'string') this.secrets.add(v);
        if (k === 's3Role' && typeof v === 'string') this.wholeSecrets.add(v);
      }
    }
    for (const sim of [this.sim, ...this.others.map((o) => o.sim)]) {
      for (const r of sim.resources()) {
        const secret = sim.resource(r.logicalId)?.attributes?.SecretAccessKey;
        if (typeof secret === 'string') this.secrets.add(secret);
      }
    }
  }

  /** Every text a person could read: templates, cloud assemblies, logs, handler responses and errors, stack events, AEP recordings. */
  texts(): Record<string, string> {
    const texts: Record<string, string> = {};
    this.templates.forEach((t, i) => { texts[`template #${i + 1}`] = t; });
    texts['handler logs'] = this.logs.join('\n');
    texts['handler responses and errors'] = JSON.stringify([this.sim, ...this.others.map((o) => o.sim)]
      .flatMap((sim) => sim.invocations.map((i) => ({ response: i.response, error: i.error }))));
    texts['stack events'] = JSON.stringify(this.results.map((r) => ({ failure: r.failure, events: r.events })));
    texts['left behind'] = JSON.stringify([this.sim, ...this.others.map((o) => o.sim)].flatMap((sim) => sim.leftBehind));
    return { ...texts, ...aepRecordingTexts(this.aep) };
  }

  /** Every violated world invariant (empty = consistent), after pending AEP work has landed. */
  async violations(options: { retained?: string[]; deletedAccessKeys?: string[] } = {}): Promise<string[]> {
    await this.aep.settle();
    this.collectSecrets();
    const texts = this.texts();
    const whole = Object.entries(texts).flatMap(([name, text]) =>
      [...this.wholeSecrets].filter((secret) => text.includes(secret)).map(() => `a role ARN AEP marks secret appears in ${name}`));
    // Every request the handler sent and every answer the stand-in gave, judged by Adobe's specs.
    const contract = contractFailures(this.aep);
    return [...whole, ...contract, ...checkWorldInvariants({
      aep: this.aep,
      aws: this.aws,
      owned: this.owned(),
      retained: options.retained,
      texts,
      secrets: [...this.secrets],
      deletedAccessKeys: options.deletedAccessKeys,
    })];
  }

  /** Stops the stand-ins, restores the environment, removes the cloud assemblies. */
  async close(): Promise<void> {
    for (const [key, value] of Object.entries(this.savedEnv)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    await Promise.all([this.aep.close(), this.aws.close()]);
    fs.rmSync(this.workDir, { recursive: true, force: true });
  }
}
