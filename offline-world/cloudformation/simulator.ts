import { scheduledEvent, targetInput } from './event-input';
import { authorize } from './iam';
import { IamPropagation, TrackedResources } from './iam-propagation';
import { deploymentOrder, IntrinsicContext, resolve, resolveDynamicReferences } from './intrinsics';
import { LambdaService } from './lambda';
import {
  CfnResponse, clone, CUSTOM, InvocationRecord, LeftBehind, LiveResource, OperationResult, orThrow, PropertyUsage, same, SimulatorOptions, StackEvent,
  StackStatus, SynthesizedStack,
} from './model';
import { customResource } from './provider-framework';
import { customName, derivedAttribute, policyOf, RemovalPolicyName, replaces, simulate, Where } from './resources';
import { Doomed, revertUpdate, rollbackCleanup, rollbackCreate, UpdateStep } from './rollback';
import { dependencies, dependents, runGraph } from './scheduler';
import type { AuthorizationDecision, AuthorizationRequest, AwsStandIn } from '../stand-in/aws';

export { CREATE_FAILED_PHYSICAL_ID_MARKER, readStack, StackOperationError } from './model';
export type {
  InvocationRecord, LeftBehind, OperationResult, PropertyUsage, SimulatorOptions, StackEvent, StackStatus, SynthesizedStack,
} from './model';

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
 * - Scheduling (scheduler.ts): every resource whose dependencies are done starts at once, so
 *   independent resources are created/updated (dependency order) and deleted (reverse dependency
 *   order) concurrently; after the first failure nothing new starts and the operations in
 *   progress finish. `parallel: false` runs one at a time (debugging).
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

/** Distinguishes simulators sharing one AWS stand-in (generated names and keys must not collide). */
let simulatorInstances = 0;

/**
 * The simulators deploying into one AWS stand-in, i.e. one account: IAM decides a call with the
 * policies of every stack there (a role is found by name wherever it was created).
 */
const accounts = new WeakMap<AwsStandIn, Set<CloudFormationSimulator>>();

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
  /** @internal */
  public readonly live: Map<string, LiveResource> = new TrackedResources((id, before, after) => this.iam.record(id, before, after));
  private readonly iam = new IamPropagation(() => (this.options.iamPropagationMs ?? 0) * this.timeScale);
  private template: any;
  private assemblyDir = '';
  private readonly earlierAssemblies: Array<{ assemblyDir: string; artifactName: string }> = [];
  /** Artifact name of the deployed template in its cloud assembly (not necessarily the stack's name). */
  private artifactName = '';
  private stackStatus?: StackStatus;
  /** The stack id (ARN) the custom resources see in their events. */
  public readonly stackId: string;
  /** @internal */
  public readonly instance = ++simulatorInstances;
  private counter = 0;
  private opEvents: StackEvent[] = [];
  /** Access keys already registered with the AWS stand-in. */
  private readonly registered = new Set<string>();

  private readonly lambda: LambdaService;

  constructor(public readonly stackName: string, private readonly options: SimulatorOptions) {
    // A stack id is unique per deployment, even for a name used before (AWS::StackId).
    this.stackId = `arn:aws:cloudformation:${this.region}:${this.account}:stack/${stackName}/00000000-0000-4000-8000-${String(this.instance).padStart(12, '0')}`;
    const simulators = accounts.get(options.aws) ?? new Set<CloudFormationSimulator>();
    accounts.set(options.aws, simulators);
    simulators.add(this);
    options.aws.setAuthorizer((request) => this.authorize(request, [...simulators]));
    const self = this;
    this.lambda = new LambdaService({
      options,
      stackName,
      instance: this.instance,
      live: (id) => this.live.get(id)!,
      arnOf: (fn, id) => this.derivedAttribute(fn, 'Arn', id),
      nextSerial: () => ++self.counter,
      assemblyDir: () => this.assemblyDir,
      artifactName: () => this.artifactName,
      earlierAssemblies: () => [...this.earlierAssemblies].reverse(),
    });
  }

  /** @internal */
  public get account() { return this.options.account ?? '111122223333'; }
  private get region() { return this.options.region ?? 'us-east-1'; }
  /** @internal Whether ready resources run concurrently (CloudFormation's behaviour, the default). */
  public get parallel() { return this.options.parallel !== false; }
  /** @internal */
  public get jitterMs() { return this.options.startJitterMs; }
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
   * Invokes every scheduled target (EventBridge rule → Lambda with constant Input or an input
   * transformer over the scheduled event at `time`) the way
   * EventBridge does: an asynchronous invocation, which Lambda retries twice on a function error
   * (default `MaximumRetryAttempts` 2, or the function's EventInvokeConfig). Throws when every
   * attempt of a target failed. Returns how many targets ran.
   */
  public async runSchedules(phase = 'refresh', time: Date = new Date()): Promise<number> {
    let runs = 0;
    for (const [id, def] of Object.entries<any>(this.template.Resources)) {
      if (def.Type !== 'AWS::Events::Rule' || !this.live.has(id)) continue;
      const props = this.live.get(id)!.properties;
      if (props.State === 'DISABLED') continue;
      for (const target of props.Targets ?? []) {
        if (target.Input === undefined && target.InputTransformer === undefined) continue;
        const fnId = this.functionByArn(target.Arn);
        if (!fnId) throw new Error(`refresh ${id}: no function behind ${target.Arn}`);
        const retries = this.asyncRetries(fnId);
        let error: string | undefined;
        for (let attempt = 0; attempt <= retries; attempt++) {
          // The scheduled event at `time` (event-input.ts): constant Input, or the transformer's view of the event.
          const event = scheduledEvent(`arn:aws:events:${this.region}:${this.account}:rule/${id}`, time, this.account, this.region);
          const input = this.track('AWS::Events::Rule', targetInput(target, event) as Record<string, unknown>);
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
    const deps = dependencies(this.template.Resources);
    await runGraph(deploymentOrder(this.template.Resources), (id) => deps.get(id)!, async (id) => {
      const error = await this.createResource(id, phase);
      if (this.live.has(id)) created.push(id);
      if (error) failure ??= `${id}: ${error}`;
      return !error;
    }, { parallel: this.parallel, jitterMs: this.jitterMs, stopOnFailure: true, afterFailedPrerequisite: 'skip' });
    if (!failure) return this.finish('create', 'CREATE_COMPLETE');
    const ok = await rollbackCreate(this, created, this.template, phase);
    return this.finish('create', ok ? 'ROLLBACK_COMPLETE' : 'ROLLBACK_FAILED', failure);
  }

  private async runUpdate(stack: SynthesizedStack, phase: string): Promise<OperationResult> {
    if (this.template === undefined) throw new Error(`stack ${this.stackName} does not exist`);
    if (this.stackStatus === 'ROLLBACK_COMPLETE' || this.stackStatus?.endsWith('_FAILED')) {
      throw new Error(`stack ${this.stackName} is in ${this.stackStatus} and cannot be updated`);
    }
    const oldTemplate = this.template;
    this.begin(stack);
    const steps: UpdateStep[] = [];
    const replaced: Doomed[] = [];
    let failure: string | undefined;
    const fail = (id: string, reason: string | undefined) => { failure ??= `${id}: ${reason}`; return false; };
    const deps = dependencies(this.template.Resources);
    await runGraph(deploymentOrder(this.template.Resources), (id) => deps.get(id)!, async (id) => {
      const current = this.live.get(id);
      if (!current) {
        const error = await this.createResource(id, phase);
        if (this.live.has(id)) steps.push({ id, kind: 'created' });
        return error ? fail(id, error) : true;
      }
      const def = this.template.Resources[id];
      let props: any;
      try {
        if (def.Type !== current.type) throw new Error(`Update of resource type is not permitted (${current.type} → ${def.Type})`);
        props = this.resolveProps(def);
      } catch (e) {
        this.event(id, current.type, 'UPDATE_FAILED', current.physicalId, (e as Error).message);
        return fail(id, (e as Error).message);
      }
      if (same(props, current.properties)) return true;
      const before: LiveResource = clone(current);
      if (CUSTOM(def.Type)) {
        steps.push({ id, kind: 'updated', before, replacedNative: false });
        const response = await this.customResource(id, def.Type, 'Update', phase, props, current.physicalId, current.properties);
        if (response.status === 'FAILED') {
          // CloudFormation records the id of the FAILED response (aws-cdk #13527) and the new properties.
          this.live.set(id, { ...current, physicalId: response.physicalId ?? current.physicalId, properties: props });
          this.event(id, def.Type, 'UPDATE_FAILED', response.physicalId, response.reason);
          return fail(id, response.reason);
        }
        this.live.set(id, { type: def.Type, physicalId: response.physicalId!, attributes: response.data ?? {}, properties: props });
        if (response.physicalId !== current.physicalId) replaced.push({ id, res: before });
        this.event(id, def.Type, 'UPDATE_COMPLETE', response.physicalId);
      } else if (replaces(def.Type, current.properties, props)) {
        const step: UpdateStep = { id, kind: 'updated', before, replacedNative: true };
        const old: Doomed = { id, res: before };
        steps.push(step);
        replaced.push(old);
        this.live.delete(id);
        const error = await this.createResource(id, phase);
        if (error) {
          this.live.set(id, before);
          steps.splice(steps.indexOf(step), 1);
          replaced.splice(replaced.indexOf(old), 1);
          return fail(id, error);
        }
      } else {
        steps.push({ id, kind: 'updated', before, replacedNative: false });
        await this.nativeOperation();
        this.live.set(id, { ...current, properties: props });
        this.applySideEffects(id, def.Type, props, current.physicalId);
        this.event(id, def.Type, 'UPDATE_COMPLETE', current.physicalId);
      }
      return true;
    }, { parallel: this.parallel, jitterMs: this.jitterMs, stopOnFailure: true, afterFailedPrerequisite: 'skip' });

    if (!failure) {
      const removed = Object.keys(oldTemplate.Resources).filter((id) => !(id in this.template.Resources) && this.live.has(id));
      const doomed = new Map<string, LiveResource[]>();
      for (const { id, res } of replaced) doomed.set(id, [...(doomed.get(id) ?? []), res]);
      for (const id of removed) doomed.set(id, [...(doomed.get(id) ?? []), this.live.get(id)!]);
      // Cleanup: reverse dependency order of the OLD template; failures are ignored (left behind).
      const after = dependents(oldTemplate.Resources);
      await runGraph(deploymentOrder(oldTemplate.Resources).reverse().filter((id) => doomed.has(id)), (id) => after.get(id) ?? [], async (id) => {
        for (const res of doomed.get(id)!) {
          const policy = removed.includes(id) ? policyOf(oldTemplate, id, 'DeletionPolicy') : policyOf(oldTemplate, id, 'UpdateReplacePolicy');
          await this.cleanupDelete(id, res, `${phase}-cleanup`, policy);
          // A removed resource exists (its policy still applies, say) until its own Delete ran.
          if (removed.includes(id)) this.live.delete(id);
        }
        return true;
      }, { parallel: this.parallel, jitterMs: this.jitterMs, stopOnFailure: false, afterFailedPrerequisite: 'run' });
      return this.finish('update', 'UPDATE_COMPLETE');
    }

    // UPDATE_ROLLBACK_IN_PROGRESS
    const reverted = await revertUpdate(this, steps, stack.template, phase);
    this.template = oldTemplate;
    if (!reverted.ok) return this.finish('update', 'UPDATE_ROLLBACK_FAILED', failure);
    await rollbackCleanup(this, reverted.cleanup, stack.template, phase);
    return this.finish('update', 'UPDATE_ROLLBACK_COMPLETE', failure);
  }

  private async runDelete(phase: string): Promise<OperationResult> {
    if (this.template === undefined) throw new Error(`stack ${this.stackName} does not exist`);
    this.opEvents = [];
    let failure: string | undefined;
    // A resource is deleted once everything depending on it is; one something undeletable still
    // depends on stays too.
    const after = dependents(this.template.Resources);
    const order = deploymentOrder(this.template.Resources).reverse().filter((id) => this.live.has(id));
    const outcome = await runGraph(order, (id) => after.get(id)!, async (id) => {
      const ok = await this.deleteLive(id, this.live.get(id)!, phase, policyOf(this.template, id, 'DeletionPolicy'));
      if (!ok) failure ??= `${id}: ${[...this.opEvents].reverse().find((e) => e.logicalId === id && e.status === 'DELETE_FAILED')?.reason}`;
      return ok;
    }, { parallel: this.parallel, jitterMs: this.jitterMs, stopOnFailure: false, afterFailedPrerequisite: 'skip' });
    if (outcome.failed.length || outcome.skipped.length) return this.finish('delete', 'DELETE_FAILED', failure);
    const result = this.finish('delete', 'DELETE_COMPLETE');
    this.template = undefined;
    return result;
  }

  private begin(stack: SynthesizedStack): void {
    if (this.assemblyDir) this.earlierAssemblies.push({ assemblyDir: this.assemblyDir, artifactName: this.artifactName });
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

  /** @internal */
  public event(logicalId: string, type: string, status: string, physicalId?: string, reason?: string): void {
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
    // The name is taken from the moment the create starts (a concurrent create of it fails).
    if (name !== undefined) this.namesInUse.set(name, '');
    await this.nativeOperation();
    const { physicalId, attributes } = simulate(this.where, ++this.counter, id, def.Type, props);
    if (name !== undefined) this.namesInUse.set(name, physicalId);
    this.live.set(id, { type: def.Type, physicalId, attributes, properties: props });
    this.applySideEffects(id, def.Type, props, physicalId);
    this.event(id, def.Type, 'CREATE_COMPLETE', physicalId);
    return undefined;
  }

  /** Deletes a live resource (removing it from the stack on success). */
  /** @internal */
  public async deleteLive(id: string, res: LiveResource, phase: string, policy: RemovalPolicyName): Promise<boolean> {
    const error = await this.deletePhysical(id, res, phase, policy);
    if (error) return false;
    this.live.delete(id);
    return true;
  }

  /** A cleanup Delete: failures are ignored by CloudFormation, recorded here. */
  /** @internal */
  public async cleanupDelete(id: string, res: LiveResource, phase: string, policy: RemovalPolicyName): Promise<void> {
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
    } else {
      await this.nativeOperation();
      if (res.type === 'AWS::IAM::User') {
        // IAM refuses to delete a user that still has an access key (one made outside the stack,
        // say): the resource stays, DELETE_FAILED, as in CloudFormation.
        try {
          this.options.aws.deleteUser(res.physicalId);
        } catch (e) {
          const reason = `${(e as Error).message} (Service: Iam, Status Code: 409, Request ID: sim-${++this.counter}) (HandlerErrorCode: GeneralServiceException)`;
          this.event(id, res.type, 'DELETE_FAILED', res.physicalId, reason);
          return reason;
        }
      }
    }
    if (res.type === 'AWS::IAM::AccessKey') {
      this.options.aws.deleteAccessKey(res.physicalId);
    } else if (res.type === 'AWS::SecretsManager::Secret') {
      this.options.aws.deleteSecret(res.physicalId);
    }
    for (const [name, physicalId] of this.namesInUse) if (physicalId === res.physicalId) this.namesInUse.delete(name);
    this.event(id, res.type, 'DELETE_COMPLETE', res.physicalId);
    return undefined;
  }

  /**
   * The time a native resource operation takes: never zero in AWS, so a custom resource that runs
   * alongside a policy it forgot to depend on starts before that policy exists, as it would there.
   */
  private async nativeOperation(): Promise<void> {
    const ms = (this.options.nativeOperationMs ?? 10) * this.timeScale;
    if (this.parallel && ms > 0) await new Promise((done) => setTimeout(done, ms));
  }

  private resolveProps(def: any): any {
    const props = clone(resolve(def.Properties ?? {}, this.context()));
    // A custom resource gets dynamic references unresolved (CloudFormation does not support them there).
    return CUSTOM(def.Type) ? props : resolveDynamicReferences(props, (id) => this.options.aws.getSecret(id));
  }

  /** Mirrors what the real resource would make observable to the handler. */
  /** @internal */
  public applySideEffects(id: string, type: string, props: any, physicalId: string): void {
    const aws = this.options.aws;
    if (type === 'AWS::IAM::User') {
      aws.createUser(physicalId);
      const tags: Array<{ Key: string; Value: string }> = props.Tags ?? [];
      aws.tagUser(physicalId, Object.fromEntries(tags.map((t) => [t.Key, t.Value])));
    }
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

  private get where(): Where {
    return { stackName: this.stackName, instance: this.instance, account: this.account, region: this.region, stackId: this.stackId };
  }

  private derivedAttribute(res: LiveResource, attr: string, id: string): string {
    return derivedAttribute(this.where, res, attr, id);
  }

  /** @internal One custom-resource request (see provider-framework.ts). */
  public customResource(
    id: string, type: string, requestType: 'Create' | 'Update' | 'Delete', phase: string,
    props: any, physicalId?: string, oldProps?: any,
  ): Promise<CfnResponse> {
    return customResource({
      region: this.region,
      stackId: this.stackId,
      timeScale: this.timeScale,
      invocations: this.invocations,
      nextSerial: () => ++this.counter,
      aepCount: () => this.aepCount(),
      functionByArn: (arn) => this.functionByArn(arn),
      live: (logicalId) => this.live.get(logicalId)!,
      track: (t, p) => this.track(t, p),
      invokeFunction: (logicalId, event) => this.invokeFunction(logicalId, event),
    }, id, type, requestType, phase, props, physicalId, oldProps);
  }

  private invokeFunction(logicalId: string, event: any) {
    return this.lambda.invoke(logicalId, event);
  }

  /** IAM evaluation of one call against the policies live in the account (see iam.ts). */
  private authorize(request: AuthorizationRequest, account: CloudFormationSimulator[]): Promise<AuthorizationDecision> {
    const live = account.filter((sim) => sim.account === this.account).flatMap((sim) => sim.iam.inForce(sim.live));
    return authorize(request, this.account, live);
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


  private functionByArn(arn: unknown): string | undefined {
    return [...this.live.entries()].find(([id, r]) => r.type === 'AWS::Lambda::Function' && this.derivedAttribute(r, 'Arn', id) === arn)?.[0];
  }

  private asyncRetries(fnId: string): number {
    const fnName = this.live.get(fnId)!.physicalId;
    const config = [...this.live.values()].find((r) => r.type === 'AWS::Lambda::EventInvokeConfig' && r.properties.FunctionName === fnName);
    return Number(config?.properties.MaximumRetryAttempts ?? 2);
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
}
