import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { deploymentOrder, IntrinsicContext, references, resolve } from './intrinsics';
import type { AuthorizationDecision, AuthorizationRequest, AwsStandIn } from '../stand-in/aws';
import { fakeAccessKeyId, fakeSecretAccessKey } from '../stand-in/fake-credentials';

/**
 * A small offline CloudFormation: deploys, updates and deletes synthesized stacks by walking the
 * template in dependency order, with CloudFormation's rollback and cleanup, the aws-cdk-lib
 * Provider framework in front of custom resources, Lambda's invocation model (own module
 * instance per function, role credentials, Timeout) and IAM evaluation of every AWS call a
 * function makes against the policies live at that moment.
 *
 * CLOUDFORMATION RULES MODELLED (sources: AWS CloudFormation User Guide, "Custom resource
 * request types" Create/Update/Delete pages and "Replacing a custom resource during an update";
 * aws-cdk PR #29581 (auto-delete-objects rollback: "UPDATE custom resource (new -> old)" during
 * rollback, and a changed PhysicalResourceId makes CFN delete the previous one at the end);
 * aws-cdk issues #13527 / #30012 (the PhysicalResourceId of a FAILED Update response is what CFN
 * records and later sends to Delete)):
 * - Create: resources in dependency order. First failure → ROLLBACK: every resource that exists
 *   (including a custom resource whose FAILED Create response carried a PhysicalResourceId — the
 *   Provider framework's CREATE_FAILED marker) gets a Delete, in reverse order. ROLLBACK_COMPLETE,
 *   or ROLLBACK_FAILED when a Delete fails (the resource stays).
 * - Update: new resources are created, changed ones updated (custom: Update request with
 *   OldResourceProperties; native: in place or replacement per immutable property). A custom
 *   resource whose Update returns another PhysicalResourceId is a replacement.
 * - Update success → cleanup: replaced old physical resources (Delete with the OLD properties
 *   and OLD physical id) and removed resources, in reverse dependency order of the OLD template.
 *   Cleanup failures do not change UPDATE_COMPLETE (they are listed in `leftBehind`).
 * - Update failure → UPDATE_ROLLBACK, reverse order of what this update did:
 *   - custom resource that was updated (the failed one included): Update with
 *     PhysicalResourceId = the id CFN holds now (the one the update/FAILED response returned),
 *     ResourceProperties = the OLD properties, OldResourceProperties = the new (failed) ones. If
 *     that rollback Update returns yet another id, the id it replaces is deleted in the
 *     rollback cleanup (with the properties it had). If a replaced resource's rollback keeps the
 *     new id, the pre-update physical resource is no longer tracked by CFN: recorded in
 *     `leftBehind` as orphaned.
 *   - native resource updated in place: old properties restored; replaced: the old physical
 *     resource is kept and the new one deleted in the rollback cleanup.
 *   - resources created by the failed update are deleted in the rollback cleanup (reverse order).
 *   Final UPDATE_ROLLBACK_COMPLETE; a failed rollback Update → UPDATE_ROLLBACK_FAILED.
 *   Removed resources are untouched (their cleanup never ran).
 * - Delete: reverse dependency order; a failed Delete leaves the resource and everything it
 *   depends on (DELETE_FAILED).
 * - Custom resources: `ServiceTimeout` (seconds, default 3600) bounds the time CFN waits for a
 *   response; the response body is limited to 4096 bytes.
 */

/** The property that gives each resource type a custom (account-unique) name. */
const NAME_PROPERTY: Record<string, string> = {
  'AWS::SecretsManager::Secret': 'Name',
  'AWS::IAM::User': 'UserName',
  'AWS::IAM::Role': 'RoleName',
  'AWS::S3::Bucket': 'BucketName',
  'AWS::Lambda::Function': 'FunctionName',
  'AWS::Logs::LogGroup': 'LogGroupName',
};

/** `type|name` when the resource is custom-named (secret names, user names…), else undefined. */
function customName(type: string, props: any): string | undefined {
  const key = NAME_PROPERTY[type];
  const value = key ? props?.[key] : undefined;
  return typeof value === 'string' ? `${type}|${value}` : undefined;
}

/** What a resource's DeletionPolicy / UpdateReplacePolicy means for one delete. */
type RemovalPolicyName = 'Retain' | 'Delete';

/**
 * The policy CloudFormation applies when deleting `id` of `template`: `Retain` keeps the physical
 * resource; `RetainExceptOnCreate` retains except when the delete rolls back its own creation;
 * `Snapshot` deletes (after a snapshot, which the model does not need).
 */
function policyOf(template: any, id: string, attribute: 'DeletionPolicy' | 'UpdateReplacePolicy', rollingBackCreate = false): RemovalPolicyName {
  const value = template?.Resources?.[id]?.[attribute];
  if (value === 'Retain') return 'Retain';
  if (value === 'RetainExceptOnCreate' && !rollingBackCreate) return 'Retain';
  return 'Delete';
}

/** One synthesized stack: its template and the directory holding its assets. */
export interface SynthesizedStack {
  /**
   * The stack's artifact name in the cloud assembly (its template and asset manifest files). The
   * simulator may deploy it under another stack name, as `--stack-name` or a per-tenant copy does.
   */
  readonly stackName: string;
  readonly template: any;
  readonly assemblyDir: string;
}

/** Reads a stack of a cloud assembly written by `app.synth()`. */
export function readStack(assemblyDir: string, stackName: string): SynthesizedStack {
  const template = JSON.parse(fs.readFileSync(path.join(assemblyDir, `${stackName}.template.json`), 'utf8'));
  return { stackName, template, assemblyDir };
}

/** What one custom-resource request (or one scheduled refresh attempt) did. */
export interface InvocationRecord {
  readonly phase: string;
  readonly requestType: 'Create' | 'Update' | 'Delete' | 'Refresh';
  readonly logicalId: string;
  readonly resourceType: string;
  /** The PhysicalResourceId CloudFormation got back (or holds, on failure). */
  readonly physicalId?: string;
  readonly aepRequests: number;
  /** FAILED reason (custom resources) or function error (refresh). */
  readonly error?: string;
  readonly response?: any;
  /** The request CloudFormation sent (custom resources). */
  readonly request?: { PhysicalResourceId?: string; ResourceProperties: any; OldResourceProperties?: any };
  /** True when the Provider framework answered without invoking the user function. */
  readonly answeredByFramework?: boolean;
}

/** Options of {@link CloudFormationSimulator}. */
export interface SimulatorOptions {
  readonly aws: AwsStandIn;
  /** Counts AEP requests (the stand-in's recording length). */
  readonly aepRequestCount?: () => number;
  readonly account?: string;
  readonly region?: string;
  /** Failed key probes simulated for each new IAM access key (IAM propagation delay). */
  readonly keyPropagationFailures?: number;
  /** Captured handler console output (for secret-leak scans). */
  readonly logSink?: string[];
  /**
   * Multiplies every AWS-side duration (function Timeout, custom resource ServiceTimeout), so
   * that short offline knobs meet proportionally short limits (default 1).
   */
  readonly timeScale?: number;
  /**
   * Whether a Lambda container is reused while its code, role and environment stay the same
   * (`warm`, default) or every invocation gets a fresh one (`cold`). Real Lambda may start a
   * container at any time, so a cold container is the harsher test of grants: a warm one hides a
   * missing permission behind a credential it cached on an earlier event.
   */
  readonly containers?: 'warm' | 'cold';
}

/** Which properties each custom-resource type (or refresh rule) was given and which the handler read. */
export interface PropertyUsage {
  readonly emitted: Map<string, Set<string>>;
  readonly read: Map<string, Set<string>>;
}

/** Stack statuses the simulator ends operations in. */
export type StackStatus =
  | 'CREATE_COMPLETE' | 'ROLLBACK_COMPLETE' | 'ROLLBACK_FAILED'
  | 'UPDATE_COMPLETE' | 'UPDATE_ROLLBACK_COMPLETE' | 'UPDATE_ROLLBACK_FAILED'
  | 'DELETE_COMPLETE' | 'DELETE_FAILED';

/** One resource event, as `describe-stack-events` would list it. */
export interface StackEvent {
  readonly logicalId: string;
  readonly type: string;
  readonly physicalId?: string;
  readonly status: string;
  readonly reason?: string;
}

/** The outcome of one stack operation. */
export interface OperationResult {
  readonly operation: 'create' | 'update' | 'delete';
  readonly status: StackStatus;
  /** The first resource failure (`<logicalId>: <reason>`). */
  readonly failure?: string;
  readonly events: StackEvent[];
}

/** Thrown by {@link CloudFormationSimulator.create}/`update`/`delete` when the operation did not complete. */
export class StackOperationError extends Error {
  constructor(public readonly result: OperationResult) {
    super(`${result.operation} ended ${result.status}: ${result.failure ?? 'a rollback or delete step failed'}`);
    this.name = 'StackOperationError';
  }
}

/** A physical resource CloudFormation stopped tracking without deleting it. */
export interface LeftBehind {
  readonly logicalId: string;
  readonly physicalId: string;
  readonly type: string;
  /** e.g. `update-cleanup`, `update-rollback-cleanup`. */
  readonly phase: string;
  readonly error: string;
}

interface LiveResource {
  type: string;
  physicalId: string;
  attributes: Record<string, any>;
  properties: any;
}

/** What CloudFormation received from a custom resource provider. */
interface CfnResponse {
  readonly status: 'SUCCESS' | 'FAILED';
  readonly physicalId?: string;
  readonly data?: Record<string, any>;
  readonly reason?: string;
}

/** One warm Lambda container: a module instance and its role session. */
interface Container {
  readonly key: string;
  readonly entry: (event: any, ctx: any) => any;
  readonly credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
}

interface FunctionError { errorType: string; errorMessage: string; trace?: string[] }

/** Physical id the Provider framework answers a failed Create with (cfn-response.ts). */
export const CREATE_FAILED_PHYSICAL_ID_MARKER = 'AWSCDK::CustomResourceProviderFramework::CREATE_FAILED';

/** Distinguishes simulators sharing one AWS stand-in (generated names and keys must not collide). */
let simulatorInstances = 0;
/** Serial of generated physical names, across simulators: two stacks never get the same role name. */
let generatedNames = 0;

/**
 * The simulators deploying into one AWS stand-in, i.e. one account: IAM decides a call with the
 * policies of every stack there (a role is found by name wherever it was created).
 */
const accounts = new WeakMap<AwsStandIn, Set<CloudFormationSimulator>>();

const CUSTOM = (type: string) => type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource';
const clone = <T>(v: T): T => (v === undefined ? v : JSON.parse(JSON.stringify(v)));
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Simulates one CloudFormation stack through create, update and delete. */
export class CloudFormationSimulator {
  /** Every custom-resource request and refresh attempt, in order. */
  public readonly invocations: InvocationRecord[] = [];
  /** Property names emitted by the template vs read by the handler, per resource type. */
  public readonly usage: PropertyUsage = { emitted: new Map(), read: new Map() };
  /** Custom names taken by physical resources that exist (`type|name` → physical id), retained ones included. */
  private readonly namesInUse = new Map<string, string>();
  /** Physical resources kept by a Retain DeletionPolicy / UpdateReplacePolicy instead of being deleted. */
  public readonly retainedByPolicy: Array<{ logicalId: string; physicalId: string; type: string; phase: string }> = [];
  /** Physical resources a cleanup could not delete (or a rollback stopped tracking). */
  public readonly leftBehind: LeftBehind[] = [];
  /** Events of every operation so far. */
  public readonly events: StackEvent[] = [];
  private live = new Map<string, LiveResource>();
  private template: any;
  private assemblyDir = '';
  /** Artifact name of the deployed template in its cloud assembly (not necessarily the stack's name). */
  private artifactName = '';
  private stackStatus?: StackStatus;
  /** The stack id (ARN) the custom resources see in their events. */
  public readonly stackId: string;
  private readonly instance = ++simulatorInstances;
  private counter = 0;
  private readonly containers = new Map<string, Container>();
  private opEvents: StackEvent[] = [];
  /** Access keys already registered with the AWS stand-in. */
  private readonly registered = new Set<string>();

  constructor(private readonly stackName: string, private readonly options: SimulatorOptions) {
    // A stack id is unique per deployment, even for a name used before (AWS::StackId).
    this.stackId = `arn:aws:cloudformation:${this.region}:${this.account}:stack/${stackName}/00000000-0000-4000-8000-${String(this.instance).padStart(12, '0')}`;
    const simulators = accounts.get(options.aws) ?? new Set<CloudFormationSimulator>();
    accounts.set(options.aws, simulators);
    simulators.add(this);
    options.aws.setAuthorizer((request) => this.authorize(request, [...simulators]));
  }

  private get account() { return this.options.account ?? '111122223333'; }
  private get region() { return this.options.region ?? 'us-east-1'; }
  private get timeScale() { return this.options.timeScale ?? 1; }

  /** The stack status after the last operation (undefined before the first). */
  public get status(): StackStatus | undefined {
    return this.stackStatus;
  }

  /** The template the stack currently runs (after a rollback: the previous one). */
  public currentTemplate(): any {
    return this.template;
  }

  /** Resources currently deployed (logical id → type, physical id). */
  public resources(): Array<{ logicalId: string; type: string; physicalId: string }> {
    return [...this.live.entries()].map(([logicalId, r]) => ({ logicalId, type: r.type, physicalId: r.physicalId }));
  }

  /** The live (resolved) properties of a resource, and its physical id and attributes; undefined when absent. */
  public resource(logicalId: string): { type: string; physicalId: string; properties: any; attributes: Record<string, any> } | undefined {
    const r = this.live.get(logicalId);
    return r && clone({ type: r.type, physicalId: r.physicalId, properties: r.properties, attributes: r.attributes });
  }

  /** Creates the stack; throws {@link StackOperationError} unless it ends CREATE_COMPLETE. */
  public async create(stack: SynthesizedStack, phase = 'create'): Promise<OperationResult> {
    return orThrow(await this.runCreate(stack, phase));
  }

  /** Updates the stack; throws {@link StackOperationError} unless it ends UPDATE_COMPLETE. */
  public async update(stack: SynthesizedStack, phase = 'update'): Promise<OperationResult> {
    return orThrow(await this.runUpdate(stack, phase));
  }

  /** Deletes the stack; throws {@link StackOperationError} unless it ends DELETE_COMPLETE. */
  public async delete(phase = 'delete'): Promise<OperationResult> {
    return orThrow(await this.runDelete(phase));
  }

  /** Creates (no stack yet) or updates the stack and returns the outcome without throwing. */
  public async deploy(stack: SynthesizedStack, phase?: string): Promise<OperationResult> {
    return this.template === undefined ? this.runCreate(stack, phase ?? 'create') : this.runUpdate(stack, phase ?? 'update');
  }

  /** Deletes the stack and returns the outcome without throwing. */
  public async destroy(phase = 'delete'): Promise<OperationResult> {
    return this.runDelete(phase);
  }

  /**
   * Invokes every scheduled refresh target (EventBridge rule → Lambda with constant Input) the way
   * EventBridge does: an asynchronous invocation, which Lambda retries twice on a function error
   * (default `MaximumRetryAttempts` 2, or the function's EventInvokeConfig). Throws when every
   * attempt of a target failed. Returns how many targets ran.
   */
  public async runSchedules(phase = 'refresh'): Promise<number> {
    let runs = 0;
    for (const [id, def] of Object.entries<any>(this.template.Resources)) {
      if (def.Type !== 'AWS::Events::Rule' || !this.live.has(id)) continue;
      const props = this.live.get(id)!.properties;
      if (props.State === 'DISABLED') continue;
      for (const target of props.Targets ?? []) {
        if (target.Input === undefined) continue;
        const fnId = this.functionByArn(target.Arn);
        if (!fnId) throw new Error(`refresh ${id}: no function behind ${target.Arn}`);
        const retries = this.asyncRetries(fnId);
        let error: string | undefined;
        for (let attempt = 0; attempt <= retries; attempt++) {
          const input = this.track('AWS::Events::Rule', JSON.parse(String(target.Input)));
          const before = this.aepCount();
          const result = await this.invokeFunction(fnId, input);
          error = result.functionError?.errorMessage;
          this.invocations.push({ phase, requestType: 'Refresh', logicalId: id, resourceType: 'AWS::Events::Rule', aepRequests: this.aepCount() - before, error });
          if (!error) break;
        }
        if (error) throw new Error(`refresh ${id} failed: ${error}`);
        runs++;
      }
    }
    return runs;
  }

  // ------------------------------------------------------------------ operations

  private async runCreate(stack: SynthesizedStack, phase: string): Promise<OperationResult> {
    if (this.template !== undefined) throw new Error(`stack ${this.stackName} already exists (status ${this.stackStatus})`);
    this.begin(stack);
    const created: string[] = [];
    let failure: string | undefined;
    for (const id of deploymentOrder(this.template.Resources)) {
      const error = await this.createResource(id, phase);
      if (this.live.has(id)) created.push(id);
      if (error) { failure = `${id}: ${error}`; break; }
    }
    if (!failure) return this.finish('create', 'CREATE_COMPLETE');
    let ok = true;
    for (const id of created.reverse()) {
      ok = (await this.deleteLive(id, this.live.get(id)!, `${phase}-rollback`, policyOf(this.template, id, 'DeletionPolicy', true))) && ok;
    }
    return this.finish('create', ok ? 'ROLLBACK_COMPLETE' : 'ROLLBACK_FAILED', failure);
  }

  private async runUpdate(stack: SynthesizedStack, phase: string): Promise<OperationResult> {
    if (this.template === undefined) throw new Error(`stack ${this.stackName} does not exist`);
    if (this.stackStatus === 'ROLLBACK_COMPLETE' || this.stackStatus?.endsWith('_FAILED')) {
      throw new Error(`stack ${this.stackName} is in ${this.stackStatus} and cannot be updated`);
    }
    const oldTemplate = this.template;
    this.begin(stack);
    type Step = { id: string; kind: 'created' } | { id: string; kind: 'updated'; before: LiveResource; replacedNative: boolean };
    const steps: Step[] = [];
    const replaced: Array<{ id: string; res: LiveResource }> = [];
    let failure: string | undefined;
    for (const id of deploymentOrder(this.template.Resources)) {
      const current = this.live.get(id);
      if (!current) {
        const error = await this.createResource(id, phase);
        if (this.live.has(id)) steps.push({ id, kind: 'created' });
        if (error) { failure = `${id}: ${error}`; break; }
        continue;
      }
      const def = this.template.Resources[id];
      let props: any;
      try {
        if (def.Type !== current.type) throw new Error(`Update of resource type is not permitted (${current.type} → ${def.Type})`);
        props = this.resolveProps(def);
      } catch (e) {
        failure = `${id}: ${(e as Error).message}`;
        this.event(id, current.type, 'UPDATE_FAILED', current.physicalId, (e as Error).message);
        break;
      }
      if (same(props, current.properties)) continue;
      const before: LiveResource = clone(current);
      if (CUSTOM(def.Type)) {
        steps.push({ id, kind: 'updated', before, replacedNative: false });
        const response = await this.customResource(id, def.Type, 'Update', phase, props, current.physicalId, current.properties);
        if (response.status === 'FAILED') {
          // CloudFormation records the id of the FAILED response (aws-cdk #13527) and the new properties.
          this.live.set(id, { ...current, physicalId: response.physicalId ?? current.physicalId, properties: props });
          failure = `${id}: ${response.reason}`;
          this.event(id, def.Type, 'UPDATE_FAILED', response.physicalId, response.reason);
          break;
        }
        this.live.set(id, { type: def.Type, physicalId: response.physicalId!, attributes: response.data ?? {}, properties: props });
        if (response.physicalId !== current.physicalId) replaced.push({ id, res: before });
        this.event(id, def.Type, 'UPDATE_COMPLETE', response.physicalId);
      } else if (this.replaces(def.Type, current.properties, props)) {
        steps.push({ id, kind: 'updated', before, replacedNative: true });
        replaced.push({ id, res: before });
        this.live.delete(id);
        const error = await this.createResource(id, phase);
        if (error) { this.live.set(id, before); steps.pop(); replaced.pop(); failure = `${id}: ${error}`; break; }
      } else {
        steps.push({ id, kind: 'updated', before, replacedNative: false });
        current.properties = props;
        this.applySideEffects(id, def.Type, props, current.physicalId);
        this.event(id, def.Type, 'UPDATE_COMPLETE', current.physicalId);
      }
    }

    if (!failure) {
      const removed = Object.keys(oldTemplate.Resources).filter((id) => !(id in this.template.Resources) && this.live.has(id));
      const doomed = new Map<string, LiveResource[]>();
      for (const { id, res } of replaced) doomed.set(id, [...(doomed.get(id) ?? []), res]);
      for (const id of removed) doomed.set(id, [...(doomed.get(id) ?? []), this.live.get(id)!]);
      for (const id of deploymentOrder(oldTemplate.Resources).reverse()) {
        for (const res of doomed.get(id) ?? []) {
          const policy = removed.includes(id) ? policyOf(oldTemplate, id, 'DeletionPolicy') : policyOf(oldTemplate, id, 'UpdateReplacePolicy');
          await this.cleanupDelete(id, res, `${phase}-cleanup`, policy);
          // A removed resource exists (its policy still applies, say) until its own Delete ran.
          if (removed.includes(id)) this.live.delete(id);
        }
      }
      return this.finish('update', 'UPDATE_COMPLETE');
    }

    // UPDATE_ROLLBACK_IN_PROGRESS
    const rollbackPhase = `${phase}-rollback`;
    const rollbackCleanup: Array<{ id: string; res: LiveResource }> = [];
    let rollbackOk = true;
    for (const step of [...steps].reverse()) {
      const now = this.live.get(step.id)!;
      if (step.kind === 'created') {
        this.live.delete(step.id);
        rollbackCleanup.push({ id: step.id, res: now });
        continue;
      }
      if (step.replacedNative) {
        rollbackCleanup.push({ id: step.id, res: now });
        this.live.set(step.id, step.before);
        this.event(step.id, now.type, 'UPDATE_COMPLETE', step.before.physicalId, 'rolled back to the previous physical resource');
      } else if (CUSTOM(now.type)) {
        const response = await this.customResource(step.id, now.type, 'Update', rollbackPhase, step.before.properties, now.physicalId, now.properties);
        if (response.status === 'FAILED') {
          rollbackOk = false;
          this.event(step.id, now.type, 'UPDATE_FAILED', now.physicalId, response.reason);
          continue;
        }
        const restored = { type: now.type, physicalId: response.physicalId!, attributes: response.data ?? {}, properties: step.before.properties };
        this.live.set(step.id, restored);
        if (response.physicalId !== now.physicalId) {
          rollbackCleanup.push({ id: step.id, res: now });
        } else if (now.physicalId !== step.before.physicalId) {
          this.leftBehind.push({
            logicalId: step.id,
            physicalId: step.before.physicalId,
            type: now.type,
            phase: rollbackPhase,
            error: `orphaned: the rollback Update kept ${now.physicalId}, so CloudFormation no longer tracks ${step.before.physicalId}`,
          });
        }
        this.event(step.id, now.type, 'UPDATE_COMPLETE', response.physicalId);
      } else {
        this.live.set(step.id, step.before);
        this.applySideEffects(step.id, now.type, step.before.properties, step.before.physicalId);
        this.event(step.id, now.type, 'UPDATE_COMPLETE', step.before.physicalId);
      }
    }
    this.template = oldTemplate;
    if (!rollbackOk) return this.finish('update', 'UPDATE_ROLLBACK_FAILED', failure);
    const newOrder = deploymentOrder(stack.template.Resources).reverse();
    rollbackCleanup.sort((a, b) => newOrder.indexOf(a.id) - newOrder.indexOf(b.id));
    for (const { id, res } of rollbackCleanup) await this.cleanupDelete(id, res, `${rollbackPhase}-cleanup`, policyOf(stack.template, id, 'DeletionPolicy', true));
    return this.finish('update', 'UPDATE_ROLLBACK_COMPLETE', failure);
  }

  private async runDelete(phase: string): Promise<OperationResult> {
    if (this.template === undefined) throw new Error(`stack ${this.stackName} does not exist`);
    this.opEvents = [];
    const failed = new Set<string>();
    let failure: string | undefined;
    const deps = (id: string) => references(this.template.Resources[id]?.Properties ?? {});
    for (const id of deploymentOrder(this.template.Resources).reverse()) {
      const res = this.live.get(id);
      if (!res) continue;
      // A resource something undeletable still depends on stays too.
      if ([...failed].some((f) => deps(f).has(id) || [this.template.Resources[f]?.DependsOn ?? []].flat().includes(id))) {
        failed.add(id);
        continue;
      }
      if (!(await this.deleteLive(id, res, phase, policyOf(this.template, id, 'DeletionPolicy')))) {
        failed.add(id);
        failure = failure ?? `${id}: ${this.opEvents[this.opEvents.length - 1]?.reason}`;
      }
    }
    if (failed.size) return this.finish('delete', 'DELETE_FAILED', failure);
    const result = this.finish('delete', 'DELETE_COMPLETE');
    this.template = undefined;
    return result;
  }

  private begin(stack: SynthesizedStack): void {
    this.template = stack.template;
    this.assemblyDir = stack.assemblyDir;
    this.artifactName = stack.stackName;
    this.opEvents = [];
  }

  private finish(operation: OperationResult['operation'], status: StackStatus, failure?: string): OperationResult {
    this.stackStatus = status;
    const result: OperationResult = { operation, status, failure, events: this.opEvents };
    this.event(this.stackName, 'AWS::CloudFormation::Stack', status, this.stackId, failure);
    this.opEvents = [];
    return result;
  }

  private event(logicalId: string, type: string, status: string, physicalId?: string, reason?: string): void {
    const e: StackEvent = { logicalId, type, status, physicalId, reason };
    this.opEvents.push(e);
    this.events.push(e);
  }

  // ------------------------------------------------------------------ resources

  /** Creates one resource; returns the failure reason, if any (the resource may still exist, e.g. a marker id). */
  private async createResource(id: string, phase: string): Promise<string | undefined> {
    const def = this.template.Resources[id];
    let props: any;
    try {
      props = this.resolveProps(def);
    } catch (e) {
      this.event(id, def.Type, 'CREATE_FAILED', undefined, (e as Error).message);
      return (e as Error).message;
    }
    if (CUSTOM(def.Type)) {
      const response = await this.customResource(id, def.Type, 'Create', phase, props);
      if (response.status === 'FAILED') {
        if (response.physicalId) this.live.set(id, { type: def.Type, physicalId: response.physicalId, attributes: {}, properties: props });
        this.event(id, def.Type, 'CREATE_FAILED', response.physicalId, response.reason);
        return response.reason;
      }
      this.live.set(id, { type: def.Type, physicalId: response.physicalId!, attributes: response.data ?? {}, properties: props });
      this.event(id, def.Type, 'CREATE_COMPLETE', response.physicalId);
      return undefined;
    }
    const name = customName(def.Type, props);
    if (name !== undefined && this.namesInUse.has(name)) {
      // A custom-named resource whose name is taken (by this stack, or by a resource a Retain
      // policy left behind) fails its create, as in AWS.
      const reason = `Resource of type '${def.Type}' with identifier '${name.split('|')[1]}' already exists.`;
      this.event(id, def.Type, 'CREATE_FAILED', undefined, reason);
      return reason;
    }
    const { physicalId, attributes } = this.simulate(id, def.Type, props);
    if (name !== undefined) this.namesInUse.set(name, physicalId);
    this.live.set(id, { type: def.Type, physicalId, attributes, properties: props });
    this.applySideEffects(id, def.Type, props, physicalId);
    this.event(id, def.Type, 'CREATE_COMPLETE', physicalId);
    return undefined;
  }

  /** Deletes a live resource (removing it from the stack on success). */
  private async deleteLive(id: string, res: LiveResource, phase: string, policy: RemovalPolicyName): Promise<boolean> {
    const error = await this.deletePhysical(id, res, phase, policy);
    if (error) return false;
    this.live.delete(id);
    return true;
  }

  /** A cleanup Delete: failures are ignored by CloudFormation, recorded here. */
  private async cleanupDelete(id: string, res: LiveResource, phase: string, policy: RemovalPolicyName): Promise<void> {
    const error = await this.deletePhysical(id, res, phase, policy);
    if (error) this.leftBehind.push({ logicalId: id, physicalId: res.physicalId, type: res.type, phase, error });
  }

  private async deletePhysical(id: string, res: LiveResource, phase: string, policy: RemovalPolicyName): Promise<string | undefined> {
    if (policy === 'Retain') {
      // DeletionPolicy / UpdateReplacePolicy Retain: the resource leaves the stack, nothing is
      // called (a custom resource gets no Delete), the physical resource lives on.
      this.retainedByPolicy.push({ logicalId: id, physicalId: res.physicalId, type: res.type, phase });
      this.event(id, res.type, 'DELETE_SKIPPED', res.physicalId);
      return undefined;
    }
    if (CUSTOM(res.type)) {
      const response = await this.customResource(id, res.type, 'Delete', phase, res.properties, res.physicalId);
      if (response.status === 'FAILED') {
        this.event(id, res.type, 'DELETE_FAILED', res.physicalId, response.reason);
        return response.reason;
      }
    } else if (res.type === 'AWS::IAM::AccessKey') {
      this.options.aws.deleteAccessKey(res.physicalId);
    } else if (res.type === 'AWS::SecretsManager::Secret') {
      this.options.aws.deleteSecret(res.physicalId);
    }
    for (const [name, physicalId] of this.namesInUse) if (physicalId === res.physicalId) this.namesInUse.delete(name);
    this.event(id, res.type, 'DELETE_COMPLETE', res.physicalId);
    return undefined;
  }

  private resolveProps(def: any): any {
    return clone(resolve(def.Properties ?? {}, this.context()));
  }

  /** CloudFormation replaces these on the listed property changes. */
  private replaces(type: string, oldProps: any, newProps: any): boolean {
    const immutable: Record<string, string[]> = {
      'AWS::IAM::AccessKey': ['Serial', 'UserName'],
      'AWS::S3::Bucket': ['BucketName'],
      'AWS::IAM::User': ['UserName'],
      'AWS::IAM::Role': ['RoleName'],
      'AWS::SecretsManager::Secret': ['Name'],
      'AWS::Lambda::Function': ['FunctionName'],
      'AWS::Logs::LogGroup': ['LogGroupName'],
    };
    return (immutable[type] ?? []).some((k) => !same(oldProps[k], newProps[k]));
  }

  private simulate(id: string, type: string, props: any): { physicalId: string; attributes: Record<string, string> } {
    const n = ++this.counter;
    const serial = ++generatedNames;
    const arnOf = (service: string, resource: string) => `arn:aws:${service}:${this.region}:${this.account}:${resource}`;
    switch (type) {
      case 'AWS::IAM::AccessKey': {
        const seed = `${this.stackName}/${this.instance}/${id}/${n}`;
        const accessKeyId = fakeAccessKeyId('AKIA', seed);
        const secretAccessKey = fakeSecretAccessKey(seed);
        return { physicalId: accessKeyId, attributes: { SecretAccessKey: secretAccessKey } };
      }
      case 'AWS::SecretsManager::Secret':
      {
        // Secrets Manager's random 6-character suffix, unique per simulator and resource.
        const suffix = fakeSecretAccessKey(`${this.stackName}/${this.instance}/${id}/${n}`).replace(/[^A-Za-z0-9]/g, '').slice(0, 6);
        return { physicalId: arnOf('secretsmanager', `secret:${props.Name ?? id}-${suffix}`), attributes: {} };
      }
      case 'AWS::IAM::Role':
        return { physicalId: props.RoleName ?? `${this.stackName}-${id}-SIM${serial}`.slice(0, 64), attributes: {} };
      case 'AWS::IAM::User':
        return { physicalId: props.UserName ?? `${this.stackName}-${id}-SIM${serial}`.slice(0, 64), attributes: {} };
      case 'AWS::S3::Bucket':
        return { physicalId: props.BucketName ?? `${this.stackName}-${id}-sim${serial}`.toLowerCase().slice(0, 63), attributes: {} };
      case 'AWS::Lambda::Function':
        return { physicalId: props.FunctionName ?? `${this.stackName}-${id}-SIM${serial}`.slice(0, 64), attributes: {} };
      default:
        return { physicalId: `${id}-sim${n}`, attributes: {} };
    }
  }

  /** Mirrors what the real resource would make observable to the handler. */
  private applySideEffects(id: string, type: string, props: any, physicalId: string): void {
    const aws = this.options.aws;
    if (type === 'AWS::IAM::AccessKey') {
      if (!this.registered.has(physicalId)) {
        this.registered.add(physicalId);
        aws.registerAccessKey({
          accessKeyId: physicalId,
          secretAccessKey: this.live.get(id)!.attributes.SecretAccessKey,
          userName: props.UserName,
          notValidForNextCalls: this.options.keyPropagationFailures ?? 0,
        });
      }
      // A deleted key never comes back; a live one follows its Status.
      if (aws.accessKeyWorks(physicalId) || props.Status !== 'Inactive') {
        try { aws.setAccessKeyStatus(physicalId, props.Status === 'Inactive' ? 'Inactive' : 'Active'); } catch { /* deleted */ }
      }
    } else if (type === 'AWS::SecretsManager::Secret') {
      const value = props.SecretString ?? JSON.stringify({ generated: `sim-${id}` });
      aws.putSecret(physicalId, value);
      // CloudFormation makes the secret's tags exactly the template's (TagResource/UntagResource).
      const tags: Array<{ Key: string; Value: string }> = props.Tags ?? [];
      aws.tagSecret(physicalId, Object.fromEntries(tags.map((t) => [t.Key, t.Value])));
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
        if (!res) throw new Error(`Ref to ${id} before it exists`);
        return res.physicalId;
      },
      getAtt: (id, attr) => {
        const res = this.live.get(id);
        if (!res) throw new Error(`GetAtt ${id}.${attr} before it exists`);
        if (attr in res.attributes) return res.attributes[attr];
        return this.derivedAttribute(res, attr, id);
      },
    };
  }

  private derivedAttribute(res: LiveResource, attr: string, id: string): string {
    const p = res.physicalId;
    if (CUSTOM(res.type)) {
      // CloudFormation's wording when a GetAtt names a key the provider's Data lacks.
      throw new Error(`CustomResource attribute error: Vendor response doesn't contain ${attr} key in object ${this.stackId}|${id}|${p}`);
    }
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
    if ((attr === 'RoleId' && res.type === 'AWS::IAM::Role') || (attr === 'UserId' && res.type === 'AWS::IAM::User')) {
      // IAM's unique ids (AROA… / AIDA…): derived from the physical resource, never its name.
      const digest = createHash('sha256').update(`${res.type}/${p}`).digest('hex').toUpperCase().replace(/[^A-Z0-9]/g, '');
      return `${attr === 'RoleId' ? 'AROA' : 'AIDA'}${digest.slice(0, 17)}`;
    }
    return `${p}.${attr}`;
  }

  // ------------------------------------------------------------------ custom resources

  /**
   * One custom-resource request as CloudFormation sends it to the ServiceToken, bounded by the
   * resource's ServiceTimeout; returns what CloudFormation received.
   */
  private async customResource(
    id: string, type: string, requestType: 'Create' | 'Update' | 'Delete', phase: string,
    props: any, physicalId?: string, oldProps?: any,
  ): Promise<CfnResponse> {
    const requestId = `00000000-0000-4000-8000-${String(++this.counter).padStart(12, '0')}`;
    const event: any = {
      RequestType: requestType,
      ServiceToken: props.ServiceToken,
      ResponseURL: `https://cloudformation-custom-resource-response-${this.region}.s3.amazonaws.com/sim/${requestId}`,
      StackId: this.stackId,
      RequestId: requestId,
      LogicalResourceId: id,
      ResourceType: type,
      ResourceProperties: props,
    };
    if (physicalId !== undefined) event.PhysicalResourceId = physicalId;
    if (requestType === 'Update') event.OldResourceProperties = oldProps;
    const request = clone({ PhysicalResourceId: physicalId, ResourceProperties: props, OldResourceProperties: oldProps });
    const before = this.aepCount();
    const serviceTimeoutMs = Number(props.ServiceTimeout ?? 3600) * 1000 * this.timeScale;
    let answeredByFramework = false;
    const work = this.providerFramework(event, type, () => { answeredByFramework = true; });
    let response = await withTimeout(work, serviceTimeoutMs);
    if (response === TIMED_OUT || response === NO_RESPONSE) {
      response = {
        status: 'FAILED',
        physicalId: requestType === 'Create' ? undefined : physicalId,
        reason: `CloudFormation did not receive a response from your Custom Resource. Please check your logs for requestId [${requestId}].`,
      };
    } else if (JSON.stringify(response).length > 4096) {
      response = { status: 'FAILED', physicalId: requestType === 'Create' ? undefined : physicalId, reason: 'Response object is too long.' };
    }
    const r = response as CfnResponse;
    this.invocations.push({
      phase,
      requestType,
      logicalId: id,
      resourceType: type,
      physicalId: r.physicalId ?? physicalId,
      aepRequests: this.aepCount() - before,
      error: r.status === 'FAILED' ? r.reason : undefined,
      response: r.status === 'SUCCESS' ? { PhysicalResourceId: r.physicalId, Data: r.data } : undefined,
      request,
      answeredByFramework: answeredByFramework || undefined,
    });
    return r;
  }

  /**
   * The aws-cdk-lib Provider framework's onEvent function (custom-resources/lib/provider-framework/
   * runtime/framework.ts, cfn-response.ts, outbound.ts, aws-cdk-lib 2.180), run as its own
   * Lambda (bounded by its own Timeout: if it dies, no response reaches CloudFormation):
   * - safeHandler: a Delete of the CREATE_FAILED marker is answered SUCCESS without calling the
   *   user function; any error → FAILED, with the marker as physical id when a Create had none.
   * - invokeUserFunction: synchronous Lambda Invoke; a FunctionError (throw, timeout) becomes
   *   `<errorMessage>\n\nLogs: /aws/lambda/<name>\n` — NOT re-invoked. Only an Invoke API error
   *   (e.g. the function does not exist) is retried, once, after `waitUntilFunctionActiveV2`.
   * - createResponseEvent: missing PhysicalResourceId → RequestId (Create) or the request's id
   *   (Update/Delete); a Delete that changes the id is an error.
   */
  private async providerFramework(event: any, trackType: string, onSelfAnswer: () => void): Promise<CfnResponse | typeof NO_RESPONSE> {
    const frameworkId = this.functionByArn(event.ServiceToken);
    if (!frameworkId) {
      return { status: 'FAILED', physicalId: event.PhysicalResourceId, reason: `Invalid service token: ${event.ServiceToken}` };
    }
    const frameworkProps = this.live.get(frameworkId)!.properties;
    const userArn = frameworkProps.Environment?.Variables?.USER_ON_EVENT_FUNCTION_ARN;
    if (!userArn) throw new Error(`simulator: ${frameworkId} is not an aws-cdk-lib Provider framework function (no USER_ON_EVENT_FUNCTION_ARN)`);
    if (frameworkProps.Environment?.Variables?.USER_IS_COMPLETE_FUNCTION_ARN) throw new Error('simulator: isComplete providers are not modelled');
    if (event.RequestType === 'Delete' && event.PhysicalResourceId === CREATE_FAILED_PHYSICAL_ID_MARKER) {
      onSelfAnswer();
      return { status: 'SUCCESS', physicalId: event.PhysicalResourceId };
    }
    const frameworkTimeoutMs = Number(frameworkProps.Timeout ?? 3) * 1000 * this.timeScale;
    const run = async (): Promise<CfnResponse> => {
      try {
        let userId = this.functionByArn(userArn);
        if (!userId) {
          // outbound.ts: a thrown Invoke is retried once after waiting for the function to be active.
          userId = this.functionByArn(userArn);
          if (!userId) throw new Error(`Function not found: ${userArn}`);
        }
        const payload = JSON.parse(JSON.stringify(event));
        payload.ResourceProperties = this.track(trackType, payload.ResourceProperties ?? {});
        const result = await this.invokeFunction(userId, payload);
        if (result.functionError) {
          const name = userArn.split(':').pop();
          throw new Error([result.functionError.errorMessage || 'error', '', `Logs: /aws/lambda/${name}`, ''].join('\n'));
        }
        const out = (result.payload ?? {}) as any;
        const physicalId = out.PhysicalResourceId || (event.RequestType === 'Create' ? event.RequestId : event.PhysicalResourceId);
        if (event.RequestType === 'Delete' && physicalId !== event.PhysicalResourceId) {
          throw new Error(`DELETE: cannot change the physical resource ID from "${event.PhysicalResourceId}" to "${out.PhysicalResourceId}" during deletion`);
        }
        return { status: 'SUCCESS', physicalId, data: out.Data };
      } catch (e) {
        const physicalId = event.PhysicalResourceId ?? (event.RequestType === 'Create' ? CREATE_FAILED_PHYSICAL_ID_MARKER : undefined);
        return { status: 'FAILED', physicalId, reason: (e as Error).message };
      }
    };
    const outcome = await withTimeout(run(), frameworkTimeoutMs);
    return outcome === TIMED_OUT ? NO_RESPONSE : outcome;
  }

  // ------------------------------------------------------------------ Lambda

  /**
   * Runs a function as Lambda would: in its own module instance (a container per function and
   * configuration), with its Environment, its execution role's credentials and a deadline of
   * its Timeout (scaled). Errors come back as Lambda's FunctionError payload.
   */
  private async invokeFunction(logicalId: string, event: any): Promise<{ payload?: unknown; functionError?: FunctionError }> {
    const fn = this.live.get(logicalId)!;
    const props = fn.properties;
    const awsRequestId = `00000000-0000-4000-9000-${String(++this.counter).padStart(12, '0')}`;
    let container;
    try {
      container = this.container(logicalId, fn);
    } catch (e) {
      return { functionError: { errorType: 'Runtime.ImportModuleError', errorMessage: (e as Error).message } };
    }
    const timeoutSeconds = Number(props.Timeout ?? 3);
    const timeoutMs = timeoutSeconds * 1000 * this.timeScale;
    const deadline = Date.now() + timeoutMs;
    const context = {
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      functionName: fn.physicalId,
      functionVersion: '$LATEST',
      invokedFunctionArn: this.derivedAttribute(fn, 'Arn', logicalId),
      memoryLimitInMB: String(props.MemorySize ?? 128),
      awsRequestId,
      logGroupName: `/aws/lambda/${fn.physicalId}`,
      logStreamName: `sim/[$LATEST]${awsRequestId.slice(-12)}`,
    };
    const env: Record<string, string> = {
      ...(props.Environment?.Variables ?? {}),
      AWS_LAMBDA_FUNCTION_NAME: fn.physicalId,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(props.MemorySize ?? 128),
      AWS_ACCESS_KEY_ID: container.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: container.credentials.secretAccessKey,
      AWS_SESSION_TOKEN: container.credentials.sessionToken,
    };
    const saved: Record<string, string | undefined> = {};
    for (const k of Object.keys(env)) { saved[k] = process.env[k]; process.env[k] = env[k]; }
    try {
      const work = this.capture(async () => container.entry(event, context));
      work.catch(() => undefined);
      const outcome = await withTimeout(work, timeoutMs);
      if (outcome === TIMED_OUT) {
        return { functionError: { errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${awsRequestId} Error: Task timed out after ${timeoutSeconds.toFixed(2)} seconds` } };
      }
      // The response travels as JSON, like Lambda's Payload.
      return { payload: outcome === undefined ? null : JSON.parse(JSON.stringify(outcome)) };
    } catch (e) {
      const err = e as Error;
      return { functionError: { errorType: err?.name ?? 'Error', errorMessage: err?.message ?? String(e), trace: String(err?.stack ?? '').split('\n') } };
    } finally {
      for (const k of Object.keys(saved)) {
        if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k];
      }
    }
  }

  /** The function's container: reused while its code, role and environment stay the same. */
  private container(logicalId: string, fn: LiveResource): Container {
    const props = fn.properties;
    const key = JSON.stringify([props.Code, props.Handler, props.Role, props.Environment, props.Timeout]);
    const existing = this.containers.get(logicalId);
    if (existing && existing.key === key && this.options.containers !== 'cold') return existing;
    const roleArn: string = props.Role;
    const credentials = this.options.aws.registerRoleSession({ roleArn, sessionName: fn.physicalId, seed: `${this.stackName}/${this.instance}/${logicalId}/${key}` });
    const entry = this.loadFunction(logicalId, props);
    const container = { key, entry, credentials };
    this.containers.set(logicalId, container);
    return container;
  }

  /**
   * Loads a function's bundled code from the cloud assembly (asset hash → directory) as a fresh
   * module instance: module-level state (SDK clients, cached tokens) is never shared between
   * two functions, as between two Lambda containers.
   */
  private loadFunction(logicalId: string, props: any): (event: any, ctx: any) => any {
    const key: string = props.Code?.S3Key ?? '';
    const hash = key.replace(/\.zip$/, '');
    const manifest = JSON.parse(fs.readFileSync(path.join(this.assemblyDir, `${this.artifactName}.assets.json`), 'utf8'));
    const source = manifest.files?.[hash]?.source;
    if (!source) throw new Error(`asset ${hash} of ${logicalId} is not in the asset manifest`);
    const dir = path.join(this.assemblyDir, source.path);
    if (!fs.existsSync(dir)) throw new Error(`asset ${dir} not found for ${logicalId}`);
    const handler = String(props.Handler);
    const dot = handler.lastIndexOf('.');
    const [file, exportName] = [handler.slice(0, dot), handler.slice(dot + 1)];
    const filename = ['.js', '.cjs', ''].map((ext) => path.join(dir, file + ext)).find((f) => fs.existsSync(f) && fs.statSync(f).isFile());
    if (!filename) throw new Error(`Cannot find module '${file}' in ${dir} (${logicalId})`);
    const mod = { exports: {} as any };
    const localRequire = (id: string) => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return require(id.startsWith('.') ? path.resolve(path.dirname(filename), id) : require.resolve(id, { paths: [dir] }));
    };
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    const compiled = new Function('exports', 'require', 'module', '__filename', '__dirname',
      `${fs.readFileSync(filename, 'utf8')}\n//# sourceURL=${filename}`);
    compiled(mod.exports, localRequire, mod, filename, path.dirname(filename));
    const entry = mod.exports[exportName];
    if (typeof entry !== 'function') throw new Error(`${logicalId} handler ${handler} not exported by the bundle`);
    return entry;
  }

  private functionByArn(arn: unknown): string | undefined {
    return [...this.live.entries()].find(([id, r]) => r.type === 'AWS::Lambda::Function' && this.derivedAttribute(r, 'Arn', id) === arn)?.[0];
  }

  private asyncRetries(fnId: string): number {
    const fnName = this.live.get(fnId)!.physicalId;
    const config = [...this.live.values()].find((r) => r.type === 'AWS::Lambda::EventInvokeConfig' && r.properties.FunctionName === fnName);
    return Number(config?.properties.MaximumRetryAttempts ?? 2);
  }

  // ------------------------------------------------------------------ IAM

  /**
   * Evaluates one AWS call against the policies live NOW in the account (every simulator sharing
   * this AWS stand-in: IAM names are account-wide), with the request's context keys (a secret's
   * tags as `aws:ResourceTag/<key>`, from the stand-in): for a role session, the role's inline
   * `Policies`, the AWS::IAM::Policy / ManagedPolicy resources attached to it; for an IAM user
   * (or its session), the same for the user and its groups; the resource policy of a Secrets
   * Manager secret when the stack has one. AWS-managed policy ARNs are not modelled (the stack's
   * functions use AWSLambdaBasicExecutionRole, which grants CloudWatch Logs only).
   */
  private async authorize(request: AuthorizationRequest, account: CloudFormationSimulator[]): Promise<AuthorizationDecision> {
    const role = /:assumed-role\/([^/]+)\//.exec(request.principalArn)?.[1];
    const user = /:user\/(?:.*\/)?([^/]+)$/.exec(request.principalArn)?.[1];
    const live = account.filter((sim) => sim.account === this.account).flatMap((sim) => [...sim.live.values()]);
    const attached = (r: LiveResource, key: 'Roles' | 'Users' | 'Groups', name: string) => (r.properties[key] ?? []).includes(name);
    const policies: any[] = [];
    let principal: string;
    if (role) {
      const roleRes = live.find((r) => r.type === 'AWS::IAM::Role' && r.physicalId === role);
      if (!roleRes) return 'denied';
      principal = `arn:aws:sts::${this.account}:assumed-role/${role}/${request.principalArn.split('/').pop()}`;
      policies.push(...(roleRes.properties.Policies ?? []).map((p: any) => p.PolicyDocument));
      policies.push(...live.filter((r) => r.type === 'AWS::IAM::Policy' && attached(r, 'Roles', role)).map((r) => r.properties.PolicyDocument));
      policies.push(...live.filter((r) => r.type === 'AWS::IAM::ManagedPolicy' && (attached(r, 'Roles', role)
        || (roleRes.properties.ManagedPolicyArns ?? []).includes(r.physicalId))).map((r) => r.properties.PolicyDocument));
    } else if (user) {
      const userRes = live.find((r) => r.type === 'AWS::IAM::User' && r.physicalId === user);
      if (!userRes) return 'denied';
      principal = `arn:aws:iam::${this.account}:user/${user}`;
      const groups: string[] = userRes.properties.Groups ?? [];
      policies.push(...(userRes.properties.Policies ?? []).map((p: any) => p.PolicyDocument));
      for (const g of live.filter((r) => r.type === 'AWS::IAM::Group' && groups.includes(r.physicalId))) {
        policies.push(...(g.properties.Policies ?? []).map((p: any) => p.PolicyDocument));
      }
      policies.push(...live.filter((r) => (r.type === 'AWS::IAM::Policy' || r.type === 'AWS::IAM::ManagedPolicy')
        && (attached(r, 'Users', user) || groups.some((g) => attached(r, 'Groups', g)))).map((r) => r.properties.PolicyDocument));
    } else {
      return 'denied';
    }
    const resourcePolicy = live.find((r) => r.type === 'AWS::SecretsManager::ResourcePolicy' && r.properties.SecretId === request.resourceArn)?.properties.ResourcePolicy;
    const accountId = request.resourceArn.split(':')[4] || this.account;
    const result = await runSimulation({
      request: { principal, action: request.action, resource: { resource: request.resourceArn, accountId }, contextVariables: request.context },
      identityPolicies: policies.map((policy, i) => ({ name: `p${i}`, policy })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy,
    }, { simulationMode: 'Strict' });
    if (result.resultType === 'error') throw new Error(`IAM simulation error for ${request.action}: ${JSON.stringify(result.errors)}`);
    const overall = result.overallResult;
    return overall === 'Allowed' ? 'allowed' : overall === 'ExplicitlyDenied' ? 'explicitly-denied' : 'denied';
  }

  // ------------------------------------------------------------------ helpers

  private aepCount(): number {
    return this.options.aepRequestCount?.() ?? 0;
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

const TIMED_OUT = Symbol('timed out');
const NO_RESPONSE = Symbol('no response');

async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((ok) => { timer = setTimeout(() => ok(TIMED_OUT), ms); });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function orThrow(result: OperationResult): OperationResult {
  if (!result.status.endsWith('_COMPLETE') || result.status.includes('ROLLBACK')) throw new StackOperationError(result);
  return result;
}

function safeJson(value: unknown): string {
  try {
    return value instanceof Error ? `${value.name}: ${value.message}` : JSON.stringify(value);
  } catch {
    return String(value);
  }
}
