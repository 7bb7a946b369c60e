import * as fs from 'fs';
import * as path from 'path';
import { deploymentOrder, IntrinsicContext, resolve } from './intrinsics';
import type { AwsStandIn } from '../stand-in/aws';
import { fakeAccessKeyId, fakeSecretAccessKey } from '../stand-in/fake-credentials';

/**
 * A small offline CloudFormation: deploys, updates and deletes synthesized stacks by walking the
 * template in dependency order. AWS resources get simulated physical ids (with their side effects
 * mirrored into the local AWS stand-in: secrets and IAM access keys); our custom resources are
 * handed to the *bundled* handler found by following ServiceToken → Provider framework →
 * `USER_ON_EVENT_FUNCTION_ARN` → function → asset directory, exactly as deployed.
 */

/** One synthesized stack: its template and the directory holding its assets. */
export interface SynthesizedStack {
  readonly stackName: string;
  readonly template: any;
  readonly assemblyDir: string;
}

/** Reads a stack of a cloud assembly written by `app.synth()`. */
export function readStack(assemblyDir: string, stackName: string): SynthesizedStack {
  const template = JSON.parse(fs.readFileSync(path.join(assemblyDir, `${stackName}.template.json`), 'utf8'));
  return { stackName, template, assemblyDir };
}

/** What one handler invocation did. */
export interface InvocationRecord {
  readonly phase: string;
  readonly requestType: 'Create' | 'Update' | 'Delete' | 'Refresh';
  readonly logicalId: string;
  readonly resourceType: string;
  readonly physicalId?: string;
  readonly aepRequests: number;
  readonly error?: string;
  readonly response?: any;
}

/** Options of {@link CloudFormationSimulator}. */
export interface SimulatorOptions {
  readonly aws: AwsStandIn;
  /** Counts AEP requests (the stand-in's recording length). */
  readonly aepRequestCount: () => number;
  readonly account?: string;
  readonly region?: string;
  /** Failed key probes simulated for each new IAM access key (IAM propagation delay). */
  readonly keyPropagationFailures?: number;
  /** Captured handler console output (for secret-leak scans). */
  readonly logSink?: string[];
}

/** Which properties each custom-resource type (or refresh rule) was given and which the handler read. */
export interface PropertyUsage {
  readonly emitted: Map<string, Set<string>>;
  readonly read: Map<string, Set<string>>;
}

interface LiveResource {
  type: string;
  physicalId: string;
  attributes: Record<string, string>;
  properties: any;
}

const CUSTOM_PREFIX = 'Custom::Aep';

/** Simulates one CloudFormation stack through create, update and delete. */
export class CloudFormationSimulator {
  public readonly invocations: InvocationRecord[] = [];
  /** Property names emitted by the template vs read by the handler, per resource type. */
  public readonly usage: PropertyUsage = { emitted: new Map(), read: new Map() };
  private live = new Map<string, LiveResource>();
  private template: any;
  private assemblyDir = '';
  private readonly stackId: string;
  private counter = 0;

  constructor(private readonly stackName: string, private readonly options: SimulatorOptions) {
    this.stackId = `arn:aws:cloudformation:${this.region}:${this.account}:stack/${stackName}/00000000-0000-4000-8000-000000000001`;
  }

  private get account() { return this.options.account ?? '111122223333'; }
  private get region() { return this.options.region ?? 'us-east-1'; }

  /** Resources currently deployed (logical id → type, physical id). */
  public resources(): Array<{ logicalId: string; type: string; physicalId: string }> {
    return [...this.live.entries()].map(([logicalId, r]) => ({ logicalId, type: r.type, physicalId: r.physicalId }));
  }

  /** Creates every resource of the stack. Stops at the first failure (like a rollback would). */
  public async create(stack: SynthesizedStack, phase = 'create'): Promise<void> {
    this.template = stack.template;
    this.assemblyDir = stack.assemblyDir;
    for (const id of deploymentOrder(this.template.Resources)) {
      await this.createResource(id, phase);
    }
  }

  /**
   * Updates to a new template: creates new resources, updates changed ones (replacing where
   * CloudFormation would), then deletes replaced and removed resources in a cleanup pass.
   */
  public async update(stack: SynthesizedStack, phase = 'update'): Promise<void> {
    const oldTemplate = this.template;
    this.template = stack.template;
    this.assemblyDir = stack.assemblyDir;
    const cleanup: Array<{ id: string; res: LiveResource }> = [];
    for (const id of deploymentOrder(this.template.Resources)) {
      const current = this.live.get(id);
      if (!current) {
        await this.createResource(id, phase);
        continue;
      }
      const def = this.template.Resources[id];
      const props = resolve(def.Properties ?? {}, this.context());
      if (JSON.stringify(props) === JSON.stringify(current.properties)) continue;
      if (def.Type.startsWith(CUSTOM_PREFIX)) {
        const response = await this.invoke(id, def.Type, 'Update', phase, props, current);
        if (response.PhysicalResourceId !== current.physicalId) {
          cleanup.push({ id, res: { ...current } });
        }
        this.live.set(id, { type: def.Type, physicalId: response.PhysicalResourceId, attributes: response.Data ?? {}, properties: props });
      } else if (this.replaces(def.Type, current.properties, props)) {
        cleanup.push({ id, res: { ...current } });
        this.live.delete(id);
        await this.createResource(id, phase);
      } else {
        this.applySideEffects(id, def.Type, props, current.physicalId);
        current.properties = props;
      }
    }
    const removed = Object.keys(oldTemplate.Resources).filter((id) => !(id in this.template.Resources));
    const oldOrder = deploymentOrder(oldTemplate.Resources).reverse();
    for (const id of oldOrder.filter((x) => removed.includes(x))) {
      await this.deleteResource(id, this.live.get(id)!, oldTemplate, phase);
      this.live.delete(id);
    }
    for (const { id, res } of cleanup.reverse()) {
      await this.deleteResource(id, res, this.template, `${phase}-cleanup`);
    }
  }

  /** Deletes every resource in reverse dependency order. */
  public async delete(phase = 'delete'): Promise<void> {
    for (const id of deploymentOrder(this.template.Resources).reverse()) {
      const res = this.live.get(id);
      if (!res) continue;
      await this.deleteResource(id, res, this.template, phase);
      this.live.delete(id);
    }
  }

  /** Invokes every scheduled refresh target (EventBridge rule → Lambda with constant Input). */
  public async runSchedules(phase = 'refresh'): Promise<number> {
    let runs = 0;
    for (const [id, def] of Object.entries<any>(this.template.Resources)) {
      if (def.Type !== 'AWS::Events::Rule') continue;
      for (const target of def.Properties.Targets ?? []) {
        const fnId = target.Arn?.['Fn::GetAtt']?.[0];
        if (!fnId || target.Input === undefined) continue;
        const input = this.track('AWS::Events::Rule', JSON.parse(String(resolve(target.Input, this.context()))));
        const fn = this.loadFunction(fnId);
        const before = this.options.aepRequestCount();
        let error: string | undefined;
        try {
          await this.capture(() => fn.entry(input, lambdaContext()));
        } catch (e) {
          error = (e as Error).message;
        }
        this.invocations.push({ phase, requestType: 'Refresh', logicalId: id, resourceType: 'AWS::Events::Rule', aepRequests: this.options.aepRequestCount() - before, error });
        if (error) throw new Error(`refresh ${id} failed: ${error}`);
        runs++;
      }
    }
    return runs;
  }

  private async createResource(id: string, phase: string): Promise<void> {
    const def = this.template.Resources[id];
    const props = resolve(def.Properties ?? {}, this.context());
    if (def.Type.startsWith(CUSTOM_PREFIX)) {
      const response = await this.invoke(id, def.Type, 'Create', phase, props);
      this.live.set(id, { type: def.Type, physicalId: response.PhysicalResourceId, attributes: response.Data ?? {}, properties: props });
      return;
    }
    const { physicalId, attributes } = this.simulate(id, def.Type, props);
    this.live.set(id, { type: def.Type, physicalId, attributes, properties: props });
    this.applySideEffects(id, def.Type, props, physicalId);
  }

  private async deleteResource(id: string, res: LiveResource, template: any, phase: string): Promise<void> {
    const def = template.Resources[id] ?? { Type: res.type };
    if (def.Type.startsWith(CUSTOM_PREFIX)) {
      await this.invoke(id, def.Type, 'Delete', phase, res.properties, res);
    }
  }

  /** CloudFormation replaces these on the listed property changes. */
  private replaces(type: string, oldProps: any, newProps: any): boolean {
    const immutable: Record<string, string[]> = {
      'AWS::IAM::AccessKey': ['Serial', 'UserName'],
      'AWS::S3::Bucket': ['BucketName'],
      'AWS::IAM::User': ['UserName'],
      'AWS::IAM::Role': ['RoleName'],
    };
    return (immutable[type] ?? []).some((k) => JSON.stringify(oldProps[k]) !== JSON.stringify(newProps[k]));
  }

  private simulate(id: string, type: string, props: any): { physicalId: string; attributes: Record<string, string> } {
    const n = ++this.counter;
    const arnOf = (service: string, resource: string) => `arn:aws:${service}:${this.region}:${this.account}:${resource}`;
    switch (type) {
      case 'AWS::IAM::AccessKey': {
        const accessKeyId = fakeAccessKeyId('AKIA', `${this.stackName}/${id}/${n}`);
        const secretAccessKey = fakeSecretAccessKey(`${this.stackName}/${id}/${n}`);
        return { physicalId: accessKeyId, attributes: { SecretAccessKey: secretAccessKey } };
      }
      case 'AWS::SecretsManager::Secret':
        return { physicalId: arnOf('secretsmanager', `secret:${id}-${n.toString(36).padStart(6, 'a')}`), attributes: {} };
      case 'AWS::IAM::Role':
        return { physicalId: props.RoleName ?? `${this.stackName}-${id}-SIM${n}`.slice(0, 64), attributes: {} };
      case 'AWS::IAM::User':
        return { physicalId: props.UserName ?? `${this.stackName}-${id}-SIM${n}`.slice(0, 64), attributes: {} };
      case 'AWS::S3::Bucket':
        return { physicalId: props.BucketName ?? `${this.stackName}-${id}-sim${n}`.toLowerCase().slice(0, 63), attributes: {} };
      default:
        return { physicalId: `${id}-sim${n}`, attributes: {} };
    }
  }

  /** Mirrors what the real resource would make observable to the handler. */
  private applySideEffects(id: string, type: string, props: any, physicalId: string): void {
    const aws = this.options.aws;
    if (type === 'AWS::IAM::AccessKey') {
      aws.registerAccessKey({
        accessKeyId: physicalId,
        secretAccessKey: this.live.get(id)!.attributes.SecretAccessKey,
        userName: props.UserName,
        notValidForNextCalls: this.options.keyPropagationFailures ?? 0,
      });
    } else if (type === 'AWS::SecretsManager::Secret') {
      const value = props.SecretString ?? JSON.stringify({ generated: `sim-${id}` });
      aws.putSecret(physicalId, value);
    }
  }

  private context(): IntrinsicContext {
    const pseudo: Record<string, string> = {
      'AWS::Region': this.region,
      'AWS::AccountId': this.account,
      'AWS::Partition': 'aws',
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::StackName': this.stackName,
      'AWS::StackId': this.stackId,
      'AWS::NoValue': undefined as any,
    };
    return {
      ref: (id) => {
        if (id in pseudo) return pseudo[id];
        const res = this.live.get(id);
        if (!res) throw new Error(`lifecycle driver: Ref to ${id} before it exists`);
        return res.physicalId;
      },
      getAtt: (id, attr) => {
        const res = this.live.get(id);
        if (!res) throw new Error(`lifecycle driver: GetAtt ${id}.${attr} before it exists`);
        if (attr in res.attributes) return res.attributes[attr];
        return this.derivedAttribute(res, attr, id);
      },
    };
  }

  private derivedAttribute(res: LiveResource, attr: string, id: string): string {
    const p = res.physicalId;
    if (attr === 'Arn') {
      switch (res.type) {
        case 'AWS::IAM::Role': return `arn:aws:iam::${this.account}:role/${p}`;
        case 'AWS::IAM::User': return `arn:aws:iam::${this.account}:user/${p}`;
        case 'AWS::S3::Bucket': return `arn:aws:s3:::${p}`;
        case 'AWS::Lambda::Function': return `arn:aws:lambda:${this.region}:${this.account}:function:${p}`;
        case 'AWS::Logs::LogGroup': return `arn:aws:logs:${this.region}:${this.account}:log-group:${p}:*`;
        case 'AWS::KMS::Key': return `arn:aws:kms:${this.region}:${this.account}:key/${p}`;
        default: return `arn:aws:sim:${this.region}:${this.account}:${id}/${p}`;
      }
    }
    if (res.type.startsWith(CUSTOM_PREFIX)) {
      throw new Error(`lifecycle driver: ${id} returned no attribute ${attr} (the handler's Data lacks it)`);
    }
    return `${p}.${attr}`;
  }

  private async invoke(id: string, type: string, requestType: 'Create' | 'Update' | 'Delete', phase: string, props: any, current?: LiveResource): Promise<any> {
    const serviceFn = this.loadServiceHandler(props.ServiceToken);
    const event: any = {
      RequestType: requestType,
      ServiceToken: props.ServiceToken,
      ResponseURL: 'http://127.0.0.1:9/unused',
      StackId: this.stackId,
      RequestId: `req-${++this.counter}`,
      LogicalResourceId: id,
      ResourceType: type,
      ResourceProperties: this.track(type, props),
    };
    if (current) event.PhysicalResourceId = current.physicalId;
    if (requestType === 'Update') event.OldResourceProperties = current!.properties;
    const before = this.options.aepRequestCount();
    try {
      const response = await this.capture(() => serviceFn.entry(event, lambdaContext()));
      const aepRequests = this.options.aepRequestCount() - before;
      this.invocations.push({
        phase, requestType, logicalId: id, resourceType: type, physicalId: response?.PhysicalResourceId, aepRequests, response,
      });
      if (!response?.PhysicalResourceId && requestType !== 'Delete') {
        throw new Error(`${requestType} ${id} returned no PhysicalResourceId`);
      }
      return response ?? {};
    } catch (e) {
      const error = (e as Error).message;
      if (!this.invocations.some((i) => i.error === error && i.logicalId === id)) {
        const aepRequests = this.options.aepRequestCount() - before;
        this.invocations.push({ phase, requestType, logicalId: id, resourceType: type, physicalId: current?.physicalId, aepRequests, error });
      }
      throw new Error(`${requestType} ${id} (${type}) failed: ${error}`);
    }
  }

  /** Records the top-level keys given, and wraps the object so the keys the handler reads are recorded. */
  private track(type: string, props: Record<string, unknown>): Record<string, unknown> {
    const emitted = this.usage.emitted.get(type) ?? new Set<string>();
    Object.keys(props).forEach((k) => emitted.add(k));
    this.usage.emitted.set(type, emitted);
    const read = this.usage.read.get(type) ?? new Set<string>();
    this.usage.read.set(type, read);
    return new Proxy(props, {
      get(target, key, receiver) {
        if (typeof key === 'string') read.add(key);
        return Reflect.get(target, key, receiver);
      },
    });
  }

  /** ServiceToken (framework function ARN) → the user onEvent function it calls. */
  private loadServiceHandler(serviceToken: string): { entry: (event: any, ctx: any) => Promise<any> } {
    const frameworkId = [...this.live.entries()].find(([, r]) => r.type === 'AWS::Lambda::Function'
      && this.derivedAttribute(r, 'Arn', '') === serviceToken)?.[0];
    if (!frameworkId) throw new Error(`lifecycle driver: no function behind ServiceToken ${serviceToken}`);
    const framework = this.live.get(frameworkId)!.properties;
    const userArn = framework.Environment?.Variables?.USER_ON_EVENT_FUNCTION_ARN;
    const userId = [...this.live.entries()].find(([, r]) => r.type === 'AWS::Lambda::Function'
      && this.derivedAttribute(r, 'Arn', '') === userArn)?.[0];
    if (!userId) throw new Error('lifecycle driver: provider framework names no USER_ON_EVENT_FUNCTION_ARN');
    return this.loadFunction(userId);
  }

  /** Loads a function's bundled code from the cloud assembly (asset hash → directory). */
  private loadFunction(logicalId: string): { entry: (event: any, ctx: any) => Promise<any> } {
    const def = this.template.Resources[logicalId];
    const key: string = def.Properties.Code.S3Key;
    const hash = key.replace(/\.zip$/, '');
    const manifest = JSON.parse(fs.readFileSync(path.join(this.assemblyDir, `${this.stackName}.assets.json`), 'utf8'));
    const source = manifest.files?.[hash]?.source;
    if (!source) throw new Error(`lifecycle driver: asset ${hash} of ${logicalId} is not in the asset manifest`);
    const dir = path.join(this.assemblyDir, source.path);
    if (!fs.existsSync(dir)) throw new Error(`lifecycle driver: asset ${dir} not found for ${logicalId}`);
    const [file, exportName] = String(def.Properties.Handler).split('.');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(path.join(dir, file));
    const entry = mod[exportName];
    if (typeof entry !== 'function') throw new Error(`lifecycle driver: ${logicalId} handler ${def.Properties.Handler} not exported by the bundle`);
    return { entry };
  }

  /** Runs a handler with console output captured into the log sink (and kept off the screen). */
  private async capture<T>(fn: () => Promise<T>): Promise<T> {
    const sink = this.options.logSink;
    if (!sink) return fn();
    const original = { log: console.log, info: console.info, warn: console.warn, error: console.error, debug: console.debug };
    const write = process.stdout.write.bind(process.stdout);
    const record = (...args: unknown[]) => { sink.push(args.map((a) => typeof a === 'string' ? a : safeJson(a)).join(' ')); };
    console.log = console.info = console.warn = console.error = console.debug = record;
    (process.stdout as any).write = (chunk: any, ...rest: any[]) => { sink.push(String(chunk)); return typeof rest[rest.length - 1] === 'function' ? (rest[rest.length - 1](), true) : true; };
    try {
      return await fn();
    } finally {
      Object.assign(console, original);
      (process.stdout as any).write = write;
    }
  }
}

function safeJson(value: unknown): string {
  try {
    return value instanceof Error ? `${value.name}: ${value.message}` : JSON.stringify(value);
  } catch {
    return String(value);
  }
}

function lambdaContext(): any {
  const deadline = Date.now() + 5 * 60_000;
  return { getRemainingTimeInMillis: () => deadline - Date.now(), functionName: 'sim', awsRequestId: 'sim' };
}
