/**
 * Shared setup for the handler tests: both local stand-ins over real HTTP, the handler's timing
 * knobs shrunk to milliseconds, seeded secrets, CloudFormation events built from the contract
 * names, and a capture of everything the handler writes so tests can prove no secret leaks.
 */
import { findSecretLeaks, SecretSet } from '../../offline-world/invariants';
import { AepStandIn, AwsStandIn, fakeAccessKeyId, fakeSecretAccessKey } from '../../offline-world/stand-in';
import { contractFailures } from '../../offline-world/stand-in/contract-check';
import { forgetConnectionSpecs } from '../../src/aep/connection-specs';
import { forgetFlowSpecs } from '../../src/aep/flow-specs';
import type { CustomResourceEvent, CustomResourceResponse } from '../../src/plumbing/events';
import { AepIds, CommonProps, ConnectionProps, CONTRACT_VERSION, encodeAllowedEndpoints, HandlerEnvironment, REFRESH_PINNED_KEYS, RefreshEventKeys, ResourceTypes, TargetConnectionProps } from '../../src/private/contract';

/**
 * Timing knobs small enough for the suite, large enough to stay deterministic on a busy CI box: the
 * harness default. The 2 s HTTP timeout is never reached by an unfaulted request, so a pause of a
 * loaded machine cannot add a retry to a test's exact count of requests (with 250 ms, six test
 * workers on two cores once made an IAM call time out and count twice).
 */
export const TEST_KNOBS: Readonly<Record<string, string>> = Object.freeze({
  AEP_HTTP_TIMEOUT_MS: '2000',
  AEP_RETRY_BASE_MS: '10',
  AEP_RETRY_MAX_ATTEMPTS: '5',
  AEP_DEADLINE_MS: '5000',
  AWS_KEY_PROBE_INTERVAL_MS: '5',
  AWS_KEY_PROBE_DEADLINE_MS: '3000',
});

/**
 * {@link TEST_KNOBS} with a 250 ms HTTP timeout, for files whose tests inject timing faults (delays,
 * late applications, no answer) or wait out windows sized from the timeout (settle windows, a
 * Delete's reserve): those are multiples of it, so it sets how long such a test waits.
 */
export const FAULT_KNOBS: Readonly<Record<string, string>> = Object.freeze({ ...TEST_KNOBS, AEP_HTTP_TIMEOUT_MS: '250' });

export const STACK_ID = 'arn:aws:cloudformation:us-east-1:123456789012:stack/aep-test/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';

/** An AWS key registered with the AWS stand-in and stored in a secret. */
export interface SeededKey {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly secretArn: string;
}

/** The running stand-ins plus what the handler printed. */
export class Harness {
  /**
   * Starts both stand-ins, points the handler at them (with `knobs`: {@link TEST_KNOBS} or
   * {@link FAULT_KNOBS}) and starts capturing its output.
   */
  static async start(knobs: Readonly<Record<string, string>> = TEST_KNOBS): Promise<Harness> {
    const [aep, aws] = await Promise.all([AepStandIn.start(), AwsStandIn.start()]);
    // Explore answers by what the connection's credentials may list in the AWS stand-in.
    aep.useAws(aws);
    return new Harness(aep, aws, knobs);
  }

  /** Every line written to stdout or the console since the last {@link clearOutput}. */
  readonly output: string[] = [];
  /** Every secret value a test handed out or the stand-ins issued, to look for in output. */
  readonly secretValues = new Set<string>();
  credentialsArn = '';

  /** The pieces of {@link secretValues} searched for, prepared once each (the set only grows). */
  private readonly searched = new SecretSet();
  private readonly savedEnv: Record<string, string | undefined> = {};
  private resets = 0;
  private readonly spies: jest.SpyInstance[] = [];

  private constructor(readonly aep: AepStandIn, readonly aws: AwsStandIn, knobs: Readonly<Record<string, string>>) {
    // What the provider writes into the function's environment at synth: the stand-in's endpoints.
    const allowed = { [HandlerEnvironment.ALLOWED_ENDPOINTS]: encodeAllowedEndpoints([[aep.flowServiceUrl, aep.imsUrl]]) };
    for (const [key, value] of Object.entries({ ...aws.env(), ...knobs, ...allowed })) {
      this.savedEnv[key] = process.env[key];
      process.env[key] = value;
    }
    const capture = (...args: unknown[]) => {
      this.output.push(args.map((a) => (typeof a === 'string' ? a : a instanceof Buffer ? a.toString() : JSON.stringify(a))).join(' '));
      return true;
    };
    this.spies.push(jest.spyOn(process.stdout, 'write').mockImplementation(capture as never));
    for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      this.spies.push(jest.spyOn(console, method).mockImplementation(capture));
    }
    this.reset();
  }

  /** Fresh stand-ins and output; re-seeds the AEP credentials secret. */
  reset(): void {
    // The handler reads each connection spec once per container; a test may switch the variant.
    forgetConnectionSpecs();
    forgetFlowSpecs();
    this.aep.reset();
    this.aws.reset();
    this.output.length = 0;
    // A fresh world is a fresh stack: its secret gets its own ARN suffix, as AWS gives every new
    // secret, so a credential the handler cached for an earlier test's secret is not this one.
    this.resets += 1;
    const suffix = `T${String(this.resets).padStart(5, '0')}`;
    this.credentialsArn = this.aws.putSecret(
      `arn:aws:secretsmanager:${this.aws.region}:${this.aws.accountId}:secret:aep/oauth-${suffix}`, JSON.stringify(this.aep.credentials));
    this.secretValues.add(this.aep.credentials.clientSecret);
  }

  /** Registers a realistic long-term key with STS and stores it as `{ accessKeyId, secretAccessKey }`. */
  seedKey(name = 'aep/s3-user-key', notValidForNextCalls = 0): SeededKey {
    const accessKeyId = fakeAccessKeyId('AKIA');
    const secretAccessKey = fakeSecretAccessKey();
    this.aws.registerAccessKey({ accessKeyId, secretAccessKey, notValidForNextCalls });
    this.secretValues.add(secretAccessKey);
    const secretArn = this.aws.putSecret(name, JSON.stringify({ accessKeyId, secretAccessKey }));
    return { accessKeyId, secretAccessKey, secretArn };
  }

  /** The contract's common properties pointing at the stand-ins. */
  common(sandbox = 'prod'): Record<string, string> {
    return {
      [CommonProps.CONTRACT_VERSION]: CONTRACT_VERSION,
      [CommonProps.CREDENTIALS_SECRET_ARN]: this.credentialsArn,
      [CommonProps.SANDBOX_NAME]: sandbox,
      [CommonProps.FLOW_SERVICE_URL]: this.aep.flowServiceUrl,
      [CommonProps.IMS_URL]: this.aep.imsUrl,
    };
  }

  /** Properties of an S3 destination `Access Key` connection reading `key` from its secret. */
  destinationAccessKeyProps(key: SeededKey, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      ...this.common(),
      [ConnectionProps.NAME]: 'acme-aep-s3-dest',
      [ConnectionProps.DESCRIPTION]: 'Managed by CloudFormation',
      [ConnectionProps.CONNECTION_SPEC_ID]: AepIds.S3_DESTINATION_CONNECTION_SPEC,
      [ConnectionProps.AUTH_SPEC_NAME]: 'Access Key',
      [ConnectionProps.AUTH_SECRET_ARN]: key.secretArn,
      [ConnectionProps.AUTH_SECRET_FIELDS]: { s3AccessKey: 'accessKeyId', s3SecretKey: 'secretAccessKey' },
      [ConnectionProps.CHANGE_TOKEN]: key.accessKeyId,
      [ConnectionProps.VERIFY_AWS_KEY]: 'true',
      ...extra,
    };
  }

  /** Properties of an S3 destination target connection on `baseId` (CloudFormation turns booleans into strings). */
  targetConnectionProps(baseId: string, params: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      ...this.common(),
      [TargetConnectionProps.NAME]: 'acme-aep-s3-audiences',
      [TargetConnectionProps.DESCRIPTION]: 'Audience exports',
      [TargetConnectionProps.CONNECTION_SPEC_ID]: AepIds.S3_DESTINATION_CONNECTION_SPEC,
      [TargetConnectionProps.BASE_CONNECTION_ID]: baseId,
      [TargetConnectionProps.PARAMS]: {
        mode: 'Server-to-server',
        bucketName: 'acme-aep-exports',
        path: 'aep/audiences/%SEGMENT_NAME%',
        fileType: 'CSV',
        compression: 'GZIP',
        includeFileManifest: 'true',
        csvOptions: { delimiter: ',', quote: '"', escape: '\\', nullValue: 'null', emptyValue: '' },
        ...params,
      },
    };
  }

  /** Properties of an S3 source `Access Key` connection that registers STS session credentials. */
  sourceSessionTokenProps(key: SeededKey, durationSeconds: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      ...this.common(),
      [ConnectionProps.NAME]: 'acme-aep-s3-src',
      [ConnectionProps.CONNECTION_SPEC_ID]: AepIds.S3_SOURCE_CONNECTION_SPEC,
      [ConnectionProps.AUTH_SPEC_NAME]: 'Access Key',
      [ConnectionProps.AUTH_PARAMS]: { bucketName: 'acme-aep-inbound' },
      [ConnectionProps.AUTH_SECRET_ARN]: key.secretArn,
      [ConnectionProps.AUTH_SECRET_FIELDS]: { s3AccessKey: 'accessKeyId', s3SecretKey: 'secretAccessKey' },
      [ConnectionProps.SESSION_TOKEN_DURATION]: String(durationSeconds),
      ...extra,
    };
  }

  /** The refresh event the EventBridge rule sends for a session-token source connection. */
  refreshEvent(connectionId: string, key: SeededKey, name = 'acme-aep-s3-src'): Record<string, unknown> {
    const event: Record<string, unknown> = {
      ...this.common(),
      [RefreshEventKeys.CONNECTION_ID]: connectionId,
      [RefreshEventKeys.NAME]: name,
      [RefreshEventKeys.AUTH_SECRET_ARN]: key.secretArn,
      [RefreshEventKeys.AUTH_SECRET_FIELDS]: { s3AccessKey: 'accessKeyId', s3SecretKey: 'secretAccessKey' },
      [RefreshEventKeys.SESSION_TOKEN_DURATION]: '3600',
    };
    // As the synthesized function is: pinned to this connection, key and sandbox.
    process.env[HandlerEnvironment.REFRESH_TARGET] = JSON.stringify(Object.fromEntries(REFRESH_PINNED_KEYS.map((k) => [k, event[k]])));
    return event;
  }

  /** Adds the secret auth params AEP now stores (unmasked view) to the values that must not leak. */
  rememberStoredSecrets(): void {
    for (const c of this.aep.connections()) {
      for (const [k, v] of Object.entries(c.auth?.params ?? {})) {
        if (['s3SecretKey', 's3SessionToken', 's3Role'].includes(k) && typeof v === 'string') this.secretValues.add(v);
      }
    }
  }

  /**
   * Fails if any 8+ character piece of a known secret value appears in the captured output or in
   * `texts` (a truncated message can leak the first half of a secret).
   */
  expectNoSecretsIn(...texts: unknown[]): void {
    this.rememberStoredSecrets();
    const haystack = [...this.output, ...texts.map((t) => (typeof t === 'string' ? t : JSON.stringify(t)))].join('\n');
    // An ARN-shaped secret (s3Role) shares its 8-character pieces with every public ARN
    // (`arn:aws:`, the account id): what identifies it is its resource name.
    for (const v of this.secretValues) this.searched.add(v.startsWith('arn:') ? v.split(/[:/]/).pop()! : v);
    expect(findSecretLeaks({ output: haystack }, this.searched).map((l) => `secret #${l.secretIndex} in ${l.text}: ${l.hint}`)).toEqual([]);
    expect(haystack).not.toMatch(/Bearer\s+[A-Za-z0-9_-]{20,}/);
  }

  /** JSON log lines the handler wrote. */
  logRecords(): Array<Record<string, unknown>> {
    return this.output.flatMap((line) => line.split('\n')).filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  }

  /** Stops the stand-ins and restores env and console. */
  async close(): Promise<void> {
    for (const spy of this.spies) spy.mockRestore();
    for (const [key, value] of Object.entries(this.savedEnv)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    await Promise.all([this.aep.close(), this.aws.close()]);
  }
}

/**
 * Runs one test of a {@link FAULT_KNOBS} file with the HTTP timeout of {@link TEST_KNOBS}: an
 * unfaulted test there that counts requests, where nothing should time out.
 */
export async function unfaulted<T>(run: () => Promise<T>): Promise<T> {
  const saved = process.env.AEP_HTTP_TIMEOUT_MS;
  process.env.AEP_HTTP_TIMEOUT_MS = TEST_KNOBS.AEP_HTTP_TIMEOUT_MS;
  try {
    return await run();
  } finally {
    if (saved === undefined) delete process.env.AEP_HTTP_TIMEOUT_MS;
    else process.env.AEP_HTTP_TIMEOUT_MS = saved;
  }
}

/**
 * Registers the hooks every handler test file uses (start/stop, fresh state per test, and after
 * each test: no schema violation, no leaked secret) and returns the live harness, with `knobs`
 * ({@link TEST_KNOBS} or {@link FAULT_KNOBS}) for the file.
 */
export function useHarness(knobs: Readonly<Record<string, string>> = TEST_KNOBS): Harness {
  let current: Harness | undefined;
  beforeAll(async () => {
    current = await Harness.start(knobs);
  });
  afterAll(async () => {
    await current?.close();
  });
  beforeEach(() => current!.reset());
  afterEach(() => {
    expect(current!.aep.validationFailures).toEqual([]);
    // Adobe's specs judge every request and response (offline-world/stand-in/contract-check.ts).
    expect(contractFailures(current!.aep)).toEqual([]);
    current!.expectNoSecretsIn();
  });
  // The harness only exists once beforeAll ran; a proxy lets test bodies use it as a constant.
  return new Proxy({} as Harness, {
    get(_target, key) {
      const value = (current as any)[key];
      return typeof value === 'function' ? value.bind(current) : value;
    },
  });
}

/** Builds the event the Provider framework hands to onEvent. */
export function cfnEvent(
  requestType: 'Create' | 'Update' | 'Delete',
  props: Record<string, unknown>,
  options: { resourceType?: string; logicalId?: string; physicalId?: string; oldProps?: Record<string, unknown> } = {},
): CustomResourceEvent {
  return {
    RequestType: requestType,
    ResourceType: options.resourceType ?? ResourceTypes.CONNECTION,
    LogicalResourceId: options.logicalId ?? 'Connection1',
    StackId: STACK_ID,
    RequestId: `req-${Math.random().toString(36).slice(2)}`,
    PhysicalResourceId: options.physicalId,
    ResourceProperties: { ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:provider', ...props },
    OldResourceProperties: options.oldProps && { ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:provider', ...options.oldProps },
  };
}

/** Runs `fn` and returns its rejection (fails the test if it resolves). */
export async function rejectionOf(fn: () => Promise<unknown>): Promise<Error> {
  try {
    await fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

export type { CustomResourceResponse };
