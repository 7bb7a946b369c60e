import * as fs from 'fs';
import * as path from 'path';
import type { AwsStandIn } from '../stand-in/aws';

/** The shapes the CloudFormation simulator's parts share, and a few small helpers. */

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
  /**
   * Whether resource operations whose dependencies are done run concurrently, as CloudFormation
   * runs them (default true); false runs one at a time in deployment order, for debugging.
   */
  readonly parallel?: boolean;
  /**
   * How long each native resource create, update or delete takes, in ms (scaled by `timeScale`;
   * default 10; only when `parallel`): long enough for a resource running alongside to start first.
   */
  readonly nativeOperationMs?: number;
  /**
   * IAM propagation delay in ms (scaled by `timeScale`; default 0: at once): a policy created or
   * changed is in force only this long after CloudFormation made it, a deleted one applies this
   * long after (iam-propagation.ts).
   */
  readonly iamPropagationMs?: number;
  /**
   * Each resource operation starts up to this many ms (random) after its dependencies are done
   * (default 0): shuffles concurrent operations to find a dependency a template forgot.
   */
  readonly startJitterMs?: number;
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


/** A resource CloudFormation tracks in the stack. */
export interface LiveResource {
  type: string;
  physicalId: string;
  attributes: Record<string, any>;
  properties: any;
}

/** What CloudFormation received from a custom resource provider. */
export interface CfnResponse {
  readonly status: 'SUCCESS' | 'FAILED';
  readonly physicalId?: string;
  readonly data?: Record<string, any>;
  readonly reason?: string;
}

/** Lambda's FunctionError payload. */
export interface FunctionError { errorType: string; errorMessage: string; trace?: string[] }

/** Physical id the Provider framework answers a failed Create with (cfn-response.ts). */
export const CREATE_FAILED_PHYSICAL_ID_MARKER = 'AWSCDK::CustomResourceProviderFramework::CREATE_FAILED';

export const CUSTOM = (type: string) => type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource';
export const clone = <T>(v: T): T => (v === undefined ? v : JSON.parse(JSON.stringify(v)));
export const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export const TIMED_OUT = Symbol('timed out');
export const NO_RESPONSE = Symbol('no response');

export async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((ok) => { timer = setTimeout(() => ok(TIMED_OUT), ms); });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function orThrow(result: OperationResult): OperationResult {
  if (!result.status.endsWith('_COMPLETE') || result.status.includes('ROLLBACK')) throw new StackOperationError(result);
  return result;
}
