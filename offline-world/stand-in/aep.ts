/**
 * A local stand-in for Adobe IMS (OAuth server-to-server token endpoint) and the Flow Service
 * connection APIs, as documented in shared/aep/API-NOTES.md. It is a real HTTP server on
 * 127.0.0.1 so the handler's HTTP client, retries and timeouts run unmodified against it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import * as http from 'node:http';
import {
  checkAgainstServedSpec, connectionSpecDocuments, type ConnectionSpecVariant, DEFAULT_CONNECTION_SPEC_VARIANT, readOnlyAuthParams,
} from './aep-connection-specs';
import { AepFlows, checkDatasetTarget, DATA_PREP_PATH, FlowSchemas, FlowsExchange, loadFlowSchemas, StoredFlow, StoredSourceConnection } from './aep-flows';
import { isObject, violation, Violation } from './aep-rules';
import {
  maskConnection, newEtag, ResourceStore, StoredConnection, StoredResource, StoredTargetConnection,
} from './aep-store';
import { AepValidator } from './aep-validation';
import { ContractCheck, ContractViolation } from './contract-check';
import { governingSpec } from './contract-governor';
import { fakeAccessKeyId, fakeSecretAccessKey } from './fake-credentials';
import { FaultInjector, FaultKind, FaultSpec } from './faults';
import { decorateBody, isDecoratedRead } from './get-decoration';
import {
  BodyTooLargeError, closeServer, header, listen, LOOPBACK, mediaType, queryObject, readBody, send, sendJson,
} from './http';
import { applyPatch, PatchError, PatchOperation } from './json-patch';
import { redactDeep, redactHeaders, redactText } from './redact';
import { AepIds } from '../../src/private/contract';
import { resolveSpecDir } from '../specs';

/** Path of the IMS token endpoint (API-NOTES §2.1). */
export const IMS_TOKEN_PATH = '/ims/token/v3';
/** Path prefix of Flow Service (API-NOTES §2.4). */
export const FLOW_SERVICE_PATH = '/data/foundation/flowservice';

/** Fixed test credentials the stand-in accepts unless told otherwise. */
export const DEFAULT_AEP_CREDENTIALS = {
  clientId: 'test-client-id',
  clientSecret: 'IMS-SECRET-do-not-leak-0001',
  orgId: 'TESTORG0123456789@AdobeOrg',
} as const;

/** Default answer of `GET /connectionSpecs/{source}/configs?authType=IamBasedAuthentication`. */
export const DEFAULT_AEP_IAM_ROLE_ARN = 'arn:aws:iam::123456789012:role/aep-ingest-va6';

/** Options of {@link AepStandIn.start}. */
export interface AepStandInOptions {
  /**
   * Folder with Adobe's `flow-service.yaml`, `destinations.yaml` and `data-prep.yaml`. Default:
   * `AEP_CONTRACTS_DIR`, else `../shared/contracts` beside the repository, else the cache
   * `npm run fetch-specs` fills (offline-world/specs.ts). When missing, `start` throws and names
   * that command, unless {@link allowMissingSpecs}.
   */
  readonly specDir?: string;
  /**
   * Start without Adobe's specs (warn once; connection-spec rules only). Only for tests of that
   * degraded mode: everything else must fail rather than validate nothing. Default false.
   */
  readonly allowMissingSpecs?: boolean;
  /** `expires_in` of issued tokens, seconds (default 86399, as IMS). */
  readonly tokenTtlSeconds?: number;
  readonly clientId?: string;
  readonly clientSecret?: string;
  readonly orgId?: string;
  /** IAM role ARN returned by the configs endpoint (default {@link DEFAULT_AEP_IAM_ROLE_ARN}). */
  readonly iamRoleArn?: string;
  /** Receives one line per request and per rejection, secrets redacted (default: discard). */
  readonly log?: (line: string) => void;
  /** Port to bind on 127.0.0.1 (default 0 = ephemeral). */
  readonly port?: number;
  /** Documented variant of the S3 connection specs served and enforced (default: current docs). */
  readonly connectionSpecVariant?: ConnectionSpecVariant;
  /**
   * How long a destination flow outlives its `DELETE` (202 Accepted), still blocking its
   * connections with `1447-400`/`1418-400` (default `DEFAULT_FLOW_DELETE_DELAY_MS` of async-delete.ts; 0 = at once).
   * Changeable later through `dataflows.deletes.delayMs`.
   */
  readonly flowDeleteDelayMs?: number;
  /** Whether AEP takes `PATCH /targetConnections/{id}` (default `accepted`; see {@link TargetConnectionPatch}). */
  readonly targetConnectionPatch?: TargetConnectionPatch;
}

/**
 * How AEP answers `PATCH /targetConnections/{id}`. Only Adobe's Flow Service spec documents it;
 * the destinations spec, which every export-settings change depends on, does not. `accepted`
 * applies it like a connection PATCH; the refusals model an AEP that does not offer it:
 * `refused-405` as a framework answers an unmapped method, `refused-400` as a service that
 * routes the method but will not change target connections.
 */
export type TargetConnectionPatch = 'accepted' | 'refused-405' | 'refused-400';

/** One request as the stand-in saw it, with every secret redacted. */
export interface RecordedRequest {
  readonly method: string;
  /** URL path without the query string. */
  readonly path: string;
  readonly query: Record<string, string | string[]>;
  /** Lower-case header names; `authorization` is reduced to its scheme. */
  readonly headers: Record<string, string>;
  /** Parsed JSON or form body with secret values redacted; undefined when empty. */
  readonly body: unknown;
  /** Status sent; 0 when no response was sent (socket reset, timeout fault, or the stand-in closed first). */
  status: number;
  /** Body sent to the client (parsed JSON, secret values redacted; raw text if not JSON); undefined when none. */
  response?: unknown;
  /** The injected fault that hit this request, if any. */
  fault?: FaultKind;
  /**
   * For a fault with `apply: 'now'` or `'later'`: the outcome of actually handling the request
   * (status and redacted body the client never saw). Unset until it was applied.
   */
  applied?: { status: number; body: unknown };
}

/** What the stand-in accepts as IMS credentials and org. */
export interface AepCredentials {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly orgId: string;
}

/** Per-request state threaded through the handlers. */
interface Exchange {
  readonly req: http.IncomingMessage;
  readonly res: http.ServerResponse;
  readonly url: URL;
  readonly rawBody: string;
  readonly record: RecordedRequest;
  /** Handle the request but send nothing: the response goes to `record.applied` (applied faults). */
  readonly discard?: boolean;
  /** Hide what a create makes from reads for this long (`eventual` fault). */
  readonly visibleAfterMs?: number;
  /** The spec operation the request matched, for judging the response (contract-check.ts). */
  readonly contract?: ReturnType<ContractCheck['checkRequest']>;
}

/** Work scheduled for later (a delayed response, a delayed application, a reveal). */
interface Deferred {
  readonly timer: NodeJS.Timeout;
  readonly work: () => void;
  /** Called instead of `work` when the stand-in resets or closes first. */
  readonly cancel: () => void;
  readonly done: Promise<void>;
  readonly finish: () => void;
}

/** Adobe IMS + Flow Service stand-in. Create with {@link AepStandIn.start}; always {@link close}. */
export class AepStandIn {
  /** Starts the server on 127.0.0.1 and loads the OpenAPI validators. */
  public static async start(options: AepStandInOptions = {}): Promise<AepStandIn> {
    const log = options.log ?? (() => undefined);
    const specDir = options.specDir ?? resolveSpecDir().dir;
    const requireSpecs = !options.allowMissingSpecs;
    const warn = (message: string) => {
      // Once per process and folder, to stderr: a silently weaker stand-in would be worse.
      console.warn(message);
      log(message);
    };
    const validator = await AepValidator.create({
      specDir,
      requireSpecs,
      warn,
    });
    // The contract check compiles every operation here, at start, so no request waits on it.
    const [flowSchemas, contract] = validator.schemaValidation
      ? await Promise.all([loadFlowSchemas(specDir), ContractCheck.load(specDir, { required: requireSpecs, warn })])
      : [undefined, undefined];
    const standIn = new AepStandIn(options, validator, log, flowSchemas, contract);
    await standIn.listen(options.port ?? 0);
    return standIn;
  }

  /** Every request received since start or the last {@link resetRecording}, secrets redacted. */
  public readonly requests: RecordedRequest[] = [];
  /**
   * Why each rejected request body was rejected (schema, connection-spec rule, bad patch,
   * dangling reference). A correct client never adds to it: tests assert it stays empty.
   */
  public readonly validationFailures: string[] = [];
  /** Credentials the stand-in accepts (fake test values). */
  public readonly credentials: AepCredentials;

  private readonly server: http.Server;
  private readonly faults = new FaultInjector(FLOW_SERVICE_PATH);
  private readonly tokens = new Map<string, number>();
  private readonly connectionStore = new ResourceStore<StoredConnection>(['id', 'name', 'description', 'connectionSpec.id', 'state', 'createdAt', 'updatedAt']);
  private readonly targetStore = new ResourceStore<StoredTargetConnection>(['id', 'name', 'connectionSpec.id', 'baseConnectionId', 'state', 'createdAt', 'updatedAt']);
  private readonly sandboxIds = new Map<string, string>();
  private readonly deferred = new Set<Deferred>();
  /** Responses a `timeout` fault holds open. */
  private readonly held = new Set<http.ServerResponse>();
  private readonly tokenTtlSeconds: number;
  private readonly initialIamRoleArn: string;
  private iamRoleArn: string;
  private readonly initialSpecVariant: ConnectionSpecVariant;
  private readonly initialTargetPatch: TargetConnectionPatch;
  private targetPatch: TargetConnectionPatch;
  private s3Reader?: S3Reader;
  private specVariant: ConnectionSpecVariant;
  private port = 0;
  private lastTimestamp = 0;
  private issuedCount = 0;
  private decorated = false;

  /** Source connections, flows, flow specs, runs and mapping sets (aep-flows.ts). */
  public readonly dataflows: AepFlows;

  private constructor(
    options: AepStandInOptions, private readonly validator: AepValidator, private readonly log: (line: string) => void,
    flowSchemas?: FlowSchemas, private readonly contract?: ContractCheck,
  ) {
    this.credentials = {
      clientId: options.clientId ?? DEFAULT_AEP_CREDENTIALS.clientId,
      clientSecret: options.clientSecret ?? DEFAULT_AEP_CREDENTIALS.clientSecret,
      orgId: options.orgId ?? DEFAULT_AEP_CREDENTIALS.orgId,
    };
    this.tokenTtlSeconds = options.tokenTtlSeconds ?? 86399;
    this.initialIamRoleArn = options.iamRoleArn ?? DEFAULT_AEP_IAM_ROLE_ARN;
    this.iamRoleArn = this.initialIamRoleArn;
    this.initialSpecVariant = options.connectionSpecVariant ?? DEFAULT_CONNECTION_SPEC_VARIANT;
    this.specVariant = this.initialSpecVariant;
    this.initialTargetPatch = options.targetConnectionPatch ?? 'accepted';
    this.targetPatch = this.initialTargetPatch;
    this.dataflows = new AepFlows({
      reply: (ex, status, body, headers) => this.reply(ex as Exchange, status, body, headers),
      reject: (ex, problem) => this.reject(ex as Exchange, problem),
      checkGateway: (ex) => this.checkGateway(ex as Exchange),
      newResource: (sandbox, input) => this.newResource(sandbox, input),
      timestamp: () => this.timestamp(),
      lagVisibility: (ex, store, id) => this.lagVisibility(ex as Exchange, store, id),
      defer: (ms, work) => this.defer(ms, work),
      connections: this.connectionStore,
      targets: this.targetStore,
      clientId: this.credentials.clientId,
    }, flowSchemas, options.flowDeleteDelayMs);
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.writeLog(`[aep] internal error: ${err instanceof Error ? err.message : String(err)}`);
        sendJson(res, 500, { errorCode: '500', errorMessage: 'stand-in internal error' });
      });
    });
  }

  /** `http://127.0.0.1:<port>` */
  public get baseUrl(): string {
    return `http://${LOOPBACK}:${this.port}`;
  }

  /** IMS base URL; clients POST `${imsUrl}/ims/token/v3`. */
  public get imsUrl(): string {
    return this.baseUrl;
  }

  /** Flow Service base URL (`${baseUrl}/data/foundation/flowservice`). */
  public get flowServiceUrl(): string {
    return `${this.baseUrl}${FLOW_SERVICE_PATH}`;
  }

  /**
   * Distinct violations of Adobe's specs by the requests received and the responses sent since
   * start or the last {@link resetRecording} that offline-world/contract-gaps.ts does not
   * document (contract-check.ts). A correct client and a faithful stand-in keep it empty.
   */
  public contractViolations(): ContractViolation[] {
    return this.contract?.undocumented() ?? [];
  }

  /** Every distinct contract violation since the last {@link resetRecording}, documented gaps included. */
  public contractReport(): ContractViolation[] {
    return this.contract?.all() ?? [];
  }

  /** Whether Adobe's OpenAPI schemas are enforced (false only when the spec files were not found). */
  public get schemaValidation(): boolean {
    return this.validator.schemaValidation;
  }

  /** How many IMS tokens have been issued (over HTTP or with {@link issueToken}). */
  public get tokensIssued(): number {
    return this.issuedCount;
  }

  /** Fault applications still pending. */
  public get pendingFaults(): number {
    return this.faults.pending;
  }

  /**
   * Scheduled work not done yet: delayed responses (`delay`), delayed applications
   * (`apply: 'later'`) and resources still invisible (`eventual`). See {@link settle}.
   */
  public get pendingApplications(): number {
    return this.deferred.size;
  }

  /**
   * Resolves once nothing is pending ({@link pendingApplications} is 0): every delayed request
   * has been applied and every created resource is visible. Waits in real time; see
   * {@link flushPending} to skip the wait.
   */
  public async settle(): Promise<void> {
    while (this.deferred.size > 0) {
      await Promise.all([...this.deferred].map((entry) => entry.done));
    }
  }

  /** Runs every pending delayed response, application and reveal now, as if their time had come. */
  public flushPending(): void {
    // Bounded: work never schedules more than one level of further work.
    for (let round = 0; round < 10 && this.deferred.size > 0; round++) {
      for (const entry of [...this.deferred]) {
        clearTimeout(entry.timer);
        this.runDeferred(entry);
      }
    }
  }

  /**
   * Stored base connection with secrets in clear (test-only view; `GET` over HTTP masks them).
   * Like every test accessor it includes resources an `eventual` fault still hides from the API.
   */
  public getConnection(id: string): StoredConnection | undefined {
    const item = this.connectionStore.all().find((c) => c.id === id);
    return item && structuredClone(item);
  }

  /** Stored target connection. */
  public getTargetConnection(id: string): StoredTargetConnection | undefined {
    const item = this.targetStore.all().find((c) => c.id === id);
    return item && structuredClone(item);
  }

  /** All base connections (every sandbox, oldest first, secrets in clear). */
  public connections(): StoredConnection[] {
    return structuredClone(this.connectionStore.all());
  }

  /** All target connections (every sandbox, oldest first). */
  public targetConnections(): StoredTargetConnection[] {
    return structuredClone(this.targetStore.all());
  }

  /** All source connections (every sandbox, oldest first). */
  public sourceConnections(): StoredSourceConnection[] {
    return structuredClone(this.dataflows.sources.all());
  }

  /** All flows (every sandbox, oldest first). */
  public flows(): StoredFlow[] {
    return structuredClone(this.dataflows.flows.all());
  }

  /** Whether a stored connection or target connection is visible to the API yet (`eventual` fault). */
  public isVisible(id: string): boolean {
    return !this.connectionStore.isHidden(id) && !this.targetStore.isHidden(id);
  }

  /** Issues a valid token without an HTTP round trip (for tests that are not about IMS). */
  public issueToken(): string {
    const token = randomBytes(32).toString('base64url');
    this.tokens.set(token, Date.now() + this.tokenTtlSeconds * 1000);
    this.issuedCount += 1;
    return token;
  }

  /** Headers a well-behaved client sends to Flow Service. */
  public flowServiceHeaders(token: string, sandbox = 'prod'): Record<string, string> {
    return {
      'authorization': `Bearer ${token}`,
      'x-api-key': this.credentials.clientId,
      'x-gw-ims-org-id': this.credentials.orgId,
      'x-sandbox-name': sandbox,
    };
  }

  /** Invalidates every issued token, as if they all expired now. */
  public expireAllTokens(): void {
    this.tokens.clear();
  }

  /** Changes what the configs endpoint returns as `IAMRole` (e.g. a malformed value). */
  public setIamRoleArn(value: string): void {
    this.iamRoleArn = value;
  }

  /**
   * Switches the documented variant of the S3 connection specs that `GET /connectionSpecs/{id}`
   * serves and that connection bodies are checked against (see aep-connection-specs.ts).
   */
  public setConnectionSpecVariant(variant: ConnectionSpecVariant): void {
    this.specVariant = variant;
  }

  /** The S3 connection spec items served now, by id. */
  public connectionSpecs(): Record<string, Record<string, unknown>> {
    return connectionSpecDocuments(this.specVariant);
  }

  /**
   * Lets explore judge reachability the way AEP would: by whether the connection's credentials
   * (its access key, or the AEP IAM role for `IAMRole Based`) may `s3:ListBucket` the folder, as
   * the AWS stand-in's authorizer decides. Without it, every explore succeeds.
   */
  public useAws(aws: S3Reader | undefined): void {
    this.s3Reader = aws;
  }

  /** Injects a fault for the next matching request(s); see {@link FaultSpec}. */
  public inject(fault: FaultSpec): void {
    this.faults.inject(fault);
  }

  /** Drops all pending faults. */
  public clearFaults(): void {
    this.faults.clear();
  }

  /** Empties {@link requests} and {@link validationFailures}. */
  public resetRecording(): void {
    this.requests.length = 0;
    this.validationFailures.length = 0;
    this.contract?.clear();
  }

  /**
   * Back to a fresh start: no resources, tokens, faults or recordings; default IAM role. Pending
   * delayed applications are dropped and sockets still waiting for a delayed or withheld response
   * are destroyed, so nothing from before the reset lands in the fresh world.
   */
  public reset(): void {
    this.cancelPending();
    this.connectionStore.clear();
    this.targetStore.clear();
    this.dataflows.clear();
    this.tokens.clear();
    this.sandboxIds.clear();
    this.faults.clear();
    this.resetRecording();
    this.iamRoleArn = this.initialIamRoleArn;
    this.specVariant = this.initialSpecVariant;
    this.targetPatch = this.initialTargetPatch;
    this.decorated = false;
  }

  /**
   * Answers every `GET` of a connection, target or source connection the way AEP may: fields of
   * its own added, keys reordered, numbers and numeric strings swapped (see get-decoration.ts).
   * Off after {@link reset}.
   */
  public decorateGets(on: boolean): void {
    this.decorated = on;
  }

  /** From now on, answers `PATCH /targetConnections/{id}` as `mode` says (see {@link TargetConnectionPatch}). */
  public setTargetConnectionPatch(mode: TargetConnectionPatch): void {
    this.targetPatch = mode;
  }

  /** Deletes an object the way a person in the AEP UI would: through the Flow Service API. */
  public async uiDelete(collection: '/connections' | '/targetConnections', id: string, sandbox = 'prod'): Promise<void> {
    const headers = this.flowServiceHeaders(this.issueToken(), sandbox);
    const res = await fetch(`${this.flowServiceUrl}${collection}/${encodeURIComponent(id)}`, { method: 'DELETE', headers });
    if (!res.ok) throw new Error(`uiDelete: DELETE ${collection}/${id} answered ${res.status}: ${await res.text()}`);
  }

  /**
   * Changes an object the way a person in the AEP UI would: through the Flow Service API (GET for
   * the etag, then PATCH with If-Match), so etags, validation and recordings behave as in AEP.
   */
  public async uiPatch(collection: '/connections' | '/targetConnections' | '/flows' | '/sourceConnections', id: string, ops: unknown[], sandbox = 'prod'): Promise<void> {
    const headers = this.flowServiceHeaders(this.issueToken(), sandbox);
    const url = `${this.flowServiceUrl}${collection}/${encodeURIComponent(id)}`;
    const current = await fetch(url, { headers });
    if (!current.ok) throw new Error(`uiPatch: GET ${collection}/${id} answered ${current.status}`);
    const etag = ((await current.json()) as { items: Array<{ etag: string }> }).items[0].etag;
    const res = await fetch(url, { method: 'PATCH', headers: { ...headers, 'if-match': etag, 'content-type': 'application/json' }, body: JSON.stringify(ops) });
    if (!res.ok) throw new Error(`uiPatch: PATCH ${collection}/${id} answered ${res.status}: ${await res.text()}`);
  }

  /**
   * A crowded sandbox (issue 19): `count` base connections of the S3 destination spec, each with
   * its target connection, as people make them in the AEP UI (no adoption marker), older than
   * anything a test creates next. Stored directly: `count` can be thousands and only what the
   * client then pays to work beside them is measured. Lists page them at 100 as any others.
   * With `newer`, they are stamped an hour ahead instead: listed (newest first) before anything a
   * test creates next, as objects made in the UI meanwhile would be.
   */
  public crowd(count: number, sandbox = 'prod', newer = false): void {
    const spec = { id: AepIds.S3_DESTINATION_CONNECTION_SPEC, version: '1.0' };
    const ahead = (i: number) => (newer ? { createdAt: Date.now() + 3_600_000 + i, updatedAt: Date.now() + 3_600_000 + i } : {});
    for (let i = 0; i < count; i++) {
      const base: StoredConnection = {
        ...this.newResource(sandbox, { name: `ui-export-${i}`, description: 'Made in the AEP UI', connectionSpec: spec }),
        ...ahead(i),
        auth: { specName: 'Access Key', params: { s3AccessKey: fakeAccessKeyId('AKIA', `crowd-${i}`), s3SecretKey: fakeSecretAccessKey(`crowd-${i}`) } },
      };
      stampAuthorizedDate(base);
      this.connectionStore.put(base);
      this.targetStore.put({
        ...this.newResource(sandbox, { name: `ui-export-${i}`, connectionSpec: spec }),
        ...ahead(i),
        baseConnectionId: base.id,
        params: { mode: 'Server-to-server', bucketName: 'ui-exports', path: `exports/${i}` },
        inheritedAttributes: { baseConnection: base.id },
      });
    }
  }

  /** Stores a base connection as given, bypassing the API: a POST applied late, or one made in the UI. */
  public putConnection(item: StoredConnection): void {
    this.connectionStore.put(item);
  }

  /** Stops the server, dropping open connections and abandoning delayed requests. */
  public async close(): Promise<void> {
    this.cancelPending();
    await closeServer(this.server);
    this.contract?.clear(); // names what is still pending, for the measuring report
  }

  private cancelPending(): void {
    for (const entry of [...this.deferred]) {
      clearTimeout(entry.timer);
      this.deferred.delete(entry);
      entry.cancel();
      entry.finish();
    }
    for (const res of this.held) {
      res.destroy();
    }
    this.held.clear();
  }

  /** Schedules `work` in `ms`; {@link settle} waits for it, reset/close call `cancel` instead. */
  private defer(ms: number, work: () => void, cancel: () => void = () => undefined): void {
    let finish!: () => void;
    const done = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const entry: Deferred = { timer: setTimeout(() => this.runDeferred(entry), ms), work, cancel, done, finish };
    this.deferred.add(entry);
  }

  private runDeferred(entry: Deferred): void {
    if (!this.deferred.delete(entry)) {
      return;
    }
    try {
      entry.work();
    } finally {
      entry.finish();
    }
  }

  private async listen(port: number): Promise<void> {
    this.port = await listen(this.server, port);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    res.on('error', () => undefined);
    req.on('error', () => undefined);
    const url = new URL(req.url ?? '/', this.baseUrl);
    const method = (req.method ?? 'GET').toUpperCase();
    let rawBody = '';
    let tooLarge = false;
    try {
      rawBody = await readBody(req);
    } catch (err) {
      if (!(err instanceof BodyTooLargeError)) {
        return; // client went away mid-body
      }
      tooLarge = true;
    }
    const record: RecordedRequest = {
      method,
      path: url.pathname,
      query: redactDeep(queryObject(url.searchParams)) as Record<string, string | string[]>,
      headers: redactHeaders(req.headers),
      body: recordableBody(req, rawBody),
      status: 0,
    };
    this.requests.push(record);
    const ex: Exchange = { req, res, url, rawBody, record, contract: tooLarge ? undefined : this.judgeRequest(req, url, method, rawBody) };
    if (tooLarge) {
      this.reply(ex, 413, { errorCode: '413', errorMessage: 'request body too large' });
      return;
    }

    const fault = this.faults.take(method, url.pathname);
    if (fault) {
      record.fault = fault.kind;
      this.applyFault(ex, fault);
    } else {
      this.route(ex);
    }
  }

  /** Handles a request: dispatches it, and turns a stand-in bug into a 500 rather than a hang. */
  private route(ex: Exchange): void {
    try {
      if (ex.url.pathname === IMS_TOKEN_PATH) {
        this.handleIms(ex);
      } else if (this.dataflows.handle(ex as FlowsExchange)) {
        // Dataflow APIs and Data Prep: aep-flows.ts.
      } else if (ex.url.pathname === FLOW_SERVICE_PATH || ex.url.pathname.startsWith(`${FLOW_SERVICE_PATH}/`)) {
        this.handleFlowService(ex);
      } else {
        this.reply(ex, 404, { errorCode: '404', errorMessage: `stand-in: no route for ${ex.url.pathname}` });
      }
    } catch (err) {
      this.writeLog(`[aep] internal error: ${err instanceof Error ? err.message : String(err)}`);
      this.reply(ex, 500, { errorCode: '500', errorMessage: 'stand-in internal error' });
    }
  }

  private applyFault(ex: Exchange, fault: FaultSpec): void {
    switch (fault.kind) {
      case 'delay':
        // A client that gave up does not stop the server: the write still happens.
        this.defer(fault.delayMs!, () => this.route(ex), () => ex.res.destroy());
        return;
      case 'expiredToken':
        this.expireAllTokens();
        this.reply(ex, 401, { error_code: '401013', message: 'Oauth token is not valid' });
        return;
      case 'eventual':
        this.route({ ...ex, visibleAfterMs: fault.visibleAfterMs });
        return;
      default:
        break;
    }
    const apply = fault.apply ?? 'never';
    if (apply === 'now') {
      this.route({ ...ex, discard: true });
    } else if (apply === 'later') {
      this.defer(fault.applyAfterMs!, () => this.route({ ...ex, discard: true }));
    }
    const applied = apply === 'never' ? '' : `, request applied ${apply}`;
    switch (fault.kind) {
      case 'status': {
        const headers: Record<string, string> = fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {};
        const body = fault.body ?? { errorCode: `${fault.status}`, errorMessage: 'Injected fault', title: http.STATUS_CODES[fault.status!] };
        this.reply(ex, fault.status!, body, headers);
        return;
      }
      case 'reset':
        this.writeLog(`[aep] ${ex.record.method} ${ex.record.path} -> socket reset (fault${applied})`);
        ex.req.socket.destroy();
        return;
      case 'malformed':
        ex.record.status = 200;
        ex.record.response = MALFORMED_BODY;
        this.writeLog(`[aep] ${ex.record.method} ${ex.record.path} -> 200 malformed body (fault${applied})`);
        send(ex.res, 200, MALFORMED_BODY, { 'content-type': 'application/json' });
        return;
      case 'timeout':
        // No response at all: the client's own timeout is the only way out of this request.
        this.writeLog(`[aep] ${ex.record.method} ${ex.record.path} -> no response (timeout fault${applied})`);
        this.held.add(ex.res);
        ex.res.on('close', () => this.held.delete(ex.res));
        return;
    }
  }

  // ---------------------------------------------------------------- IMS (API-NOTES §2.1)

  private handleIms(ex: Exchange): void {
    if (ex.record.method !== 'POST') {
      this.reply(ex, 405, { error: 'invalid_request', error_description: 'use POST' });
      return;
    }
    if (mediaType(ex.req) !== 'application/x-www-form-urlencoded') {
      this.reply(ex, 400, { error: 'invalid_request', error_description: 'Content-Type must be application/x-www-form-urlencoded' });
      return;
    }
    // Fields may come as query params too (Adobe recommends the body for secrets).
    const fields = new URLSearchParams(ex.url.searchParams);
    for (const [key, value] of new URLSearchParams(ex.rawBody)) {
      fields.set(key, value);
    }
    const missing = ['grant_type', 'client_id', 'client_secret', 'scope'].filter((f) => !fields.get(f));
    if (missing.length > 0) {
      this.reply(ex, 400, { error: 'invalid_request', error_description: `missing required parameter(s): ${missing.join(', ')}` });
      return;
    }
    if (fields.get('grant_type') !== 'client_credentials') {
      this.reply(ex, 400, { error: 'unsupported_grant_type', error_description: 'only client_credentials is supported' });
      return;
    }
    if (fields.get('client_id') !== this.credentials.clientId || fields.get('client_secret') !== this.credentials.clientSecret) {
      this.reply(ex, 401, { error: 'invalid_client', error_description: 'invalid client_id or client_secret' });
      return;
    }
    this.reply(ex, 200, { access_token: this.issueToken(), token_type: 'bearer', expires_in: this.tokenTtlSeconds });
  }

  // ---------------------------------------------------------------- Flow Service (API-NOTES §2.3, §3)

  private handleFlowService(ex: Exchange): void {
    const sandbox = this.checkGateway(ex);
    if (sandbox === undefined) {
      return;
    }
    const method = ex.record.method;
    let body: unknown;
    if (['POST', 'PUT', 'PATCH'].includes(method)) {
      if (mediaType(ex.req) !== 'application/json') {
        this.reply(ex, 415, { errorCode: '415', errorMessage: 'Content-Type must be application/json' });
        return;
      }
      try {
        body = JSON.parse(ex.rawBody);
      } catch {
        this.reject(ex, { status: 400, errorCode: '400', messages: ['request body is not valid JSON'] });
        return;
      }
    }

    const rel = ex.url.pathname.substring(FLOW_SERVICE_PATH.length).replace(/\/+$/, '');
    const [, collection, id, sub, ...rest] = rel.split('/');
    if ((collection === 'connections' || collection === 'targetConnections') && sub === undefined) {
      const target = collection === 'targetConnections';
      if (id === undefined) {
        if (method === 'GET') {
          return this.list(ex, sandbox, target);
        }
        if (method === 'POST') {
          return target ? this.createTargetConnection(ex, sandbox, body) : this.createConnection(ex, sandbox, body);
        }
      } else {
        if (method === 'GET') {
          return this.getOne(ex, sandbox, target, id);
        }
        if (method === 'PATCH' && target && this.targetPatch === 'refused-405') {
          this.reply(ex, 405, { errorCode: '405', errorMessage: "Request method 'PATCH' is not supported" }, { allow: 'GET, DELETE' });
          return;
        }
        if (method === 'PATCH' && target && this.targetPatch === 'refused-400') {
          this.reply(ex, 400, {
            errorCode: '1400-400', errorMessage: 'PATCH is not supported for target connections of this connection spec; create a new target connection instead',
          });
          return;
        }
        if (method === 'PATCH') {
          return this.patch(ex, sandbox, target, id, body);
        }
        if (method === 'DELETE') {
          return this.remove(ex, sandbox, target, id);
        }
      }
      this.reply(ex, 405, { errorCode: '405', errorMessage: `${method} is not allowed on ${ex.url.pathname}` });
      return;
    }
    if (collection === 'connections' && id && sub === 'explore' && rest.length === 0 && method === 'GET') {
      // Asks the AWS stand-in's authorizer (async); a stand-in bug still becomes a 500.
      this.explore(ex, sandbox, id).catch((err: unknown) => {
        this.writeLog(`[aep] internal error: ${err instanceof Error ? err.message : String(err)}`);
        this.reply(ex, 500, { errorCode: '500', errorMessage: 'stand-in internal error' });
      });
      return;
    }
    if (collection === 'connectionSpecs' && id && sub === undefined && method === 'GET') {
      return this.connectionSpec(ex, id);
    }
    if (collection === 'connectionSpecs' && id && sub === 'configs' && rest.length === 0 && method === 'GET') {
      return this.configs(ex, id);
    }
    this.reply(ex, 404, { errorCode: '404', errorMessage: `stand-in: no route for ${method} ${ex.url.pathname}` });
  }

  /** The API gateway checks (token, API key, org, sandbox); returns the sandbox or undefined after replying. */
  private checkGateway(ex: Exchange): string | undefined {
    const auth = header(ex.req, 'authorization') ?? '';
    const match = /^Bearer (\S+)$/i.exec(auth);
    const expiry = match ? this.tokens.get(match[1]) : undefined;
    if (expiry === undefined || expiry <= Date.now()) {
      this.reply(ex, 401, { error_code: '401013', message: 'Oauth token is not valid' });
      return undefined;
    }
    if (header(ex.req, 'x-api-key') !== this.credentials.clientId) {
      this.reply(ex, 403, { error_code: '403000', message: 'Api Key is invalid' });
      return undefined;
    }
    if (header(ex.req, 'x-gw-ims-org-id') !== this.credentials.orgId) {
      this.reply(ex, 403, { error_code: '403025', message: 'Profile is not valid' });
      return undefined;
    }
    const sandbox = header(ex.req, 'x-sandbox-name');
    if (!sandbox) {
      this.reply(ex, 400, { errorMessage: 'The header x-sandbox-name is missing', errorCode: '2105-400' });
      return undefined;
    }
    if (sandbox !== sandbox.toLowerCase()) {
      // Sandbox names are all lower-case (API-NOTES §2.3); a mixed-case header is a client bug.
      this.reply(ex, 400, { errorMessage: 'x-sandbox-name must be the all-lowercase sandbox name', errorCode: '400' });
      return undefined;
    }
    return sandbox;
  }

  private list(ex: Exchange, sandbox: string, target: boolean): void {
    const store: ResourceStore<StoredResource> = target ? this.targetStore : this.connectionStore;
    const result = store.list(sandbox, ex.url.searchParams, `${this.baseUrl}${ex.url.pathname}`);
    if ('messages' in result) {
      this.reject(ex, result);
      return;
    }
    const body = result.body as { items?: StoredResource[] };
    if (body.items) {
      body.items = body.items.map((item) => maskConnection(item));
    }
    this.reply(ex, result.status, body);
  }

  private getOne(ex: Exchange, sandbox: string, target: boolean, id: string): void {
    const item = (target ? this.targetStore : this.connectionStore).get(id, sandbox);
    if (!item) {
      this.notFound(ex, target, id);
      return;
    }
    // A list wrapper even by id (API-NOTES §3.1).
    this.reply(ex, 200, { items: [maskConnection(item)] });
  }

  private createConnection(ex: Exchange, sandbox: string, body: unknown): void {
    const problem = this.validator.connection(body, false) ?? this.servedSpecProblem(body as Record<string, unknown>, false);
    if (problem) {
      this.reject(ex, problem);
      return;
    }
    const input = body as Record<string, unknown>;
    const item: StoredConnection = {
      ...this.newResource(sandbox, input),
      auth: structuredClone(input.auth) as StoredConnection['auth'],
      ...(input.encryption !== undefined ? { encryption: structuredClone(input.encryption) as StoredConnection['encryption'] } : {}),
      ...(input.encryptionSpecs !== undefined ? { encryptionSpecs: structuredClone(input.encryptionSpecs) as StoredConnection['encryptionSpecs'] } : {}),
    };
    stampAuthorizedDate(item);
    this.connectionStore.put(item);
    this.lagVisibility(ex, this.connectionStore, item.id);
    this.reply(ex, 201, { id: item.id, etag: item.etag }, { location: `${this.flowServiceUrl}/connections/${item.id}` });
  }

  private createTargetConnection(ex: Exchange, sandbox: string, body: unknown): void {
    const problem = this.validator.targetConnection(body, false) ?? checkDatasetTarget(body as Record<string, unknown>);
    if (problem) {
      this.reject(ex, problem);
      return;
    }
    const input = body as Record<string, unknown>;
    const specId = (input.connectionSpec as { id: string }).id;
    if (input.baseConnectionId !== undefined) {
      const base = this.connectionStore.get(String(input.baseConnectionId), sandbox);
      if (!base || base.connectionSpec.id !== specId) {
        this.reject(ex, {
          status: 400,
          errorCode: '400',
          messages: [`baseConnectionId ${String(input.baseConnectionId)} is not a connection of spec ${specId} in sandbox ${sandbox}`],
        });
        return;
      }
    }
    const item: StoredTargetConnection = {
      ...this.newResource(sandbox, input),
      ...(input.baseConnectionId !== undefined ? { baseConnectionId: String(input.baseConnectionId) } : {}),
      ...(input.params !== undefined ? { params: structuredClone(input.params) as Record<string, unknown> } : {}),
      ...(input.data !== undefined ? { data: structuredClone(input.data) } : {}),
      // What the target inherits from its base connection, as destinations.yaml's TargetConnectionItem types it.
      inheritedAttributes: input.baseConnectionId !== undefined ? { baseConnection: String(input.baseConnectionId) } : {},
    };
    this.targetStore.put(item);
    this.lagVisibility(ex, this.targetStore, item.id);
    this.reply(ex, 201, { id: item.id, etag: item.etag }, { location: `${this.flowServiceUrl}/targetConnections/${item.id}` });
  }

  private patch(ex: Exchange, sandbox: string, target: boolean, id: string, body: unknown): void {
    const store: ResourceStore<StoredResource> = target ? this.targetStore : this.connectionStore;
    const item = store.get(id, sandbox);
    if (!item) {
      this.notFound(ex, target, id);
      return;
    }
    const ifMatch = header(ex.req, 'if-match');
    if (ifMatch === undefined) {
      this.reply(ex, 400, { errorCode: '1403-400', errorMessage: 'If-Match header is required for this request' });
      return;
    }
    // Compared verbatim: the etag already contains its double quotes (API-NOTES §3.4).
    if (ifMatch !== item.etag) {
      this.reply(ex, 412, { errorCode: '1404-412', errorMessage: `Version mismatch: If-Match does not match the current version of ${id}` });
      return;
    }
    const structure = this.validator.patch(body);
    if (structure) {
      this.reject(ex, structure);
      return;
    }
    let patched: StoredResource;
    try {
      patched = applyPatch(item, body as PatchOperation[]);
    } catch (err) {
      if (err instanceof PatchError) {
        this.reject(ex, { status: 400, errorCode: '1455-400', messages: [err.message] });
        return;
      }
      throw err;
    }
    const problem = target ? this.validator.targetConnection(patched, true)
      : this.validator.connection(patched, true) ?? this.servedSpecProblem(patched as StoredConnection, true, item as StoredConnection);
    if (problem) {
      this.reject(ex, problem);
      return;
    }
    const etag = newEtag();
    Object.assign(patched, {
      updatedAt: this.timestamp(),
      updatedBy: `${this.credentials.clientId}@AdobeID`,
      updatedClient: this.credentials.clientId,
      etag,
      version: etag,
    });
    if (!target) {
      stampAuthorizedDate(patched as StoredConnection);
    }
    store.put(patched);
    this.reply(ex, 200, { id, etag });
  }

  private remove(ex: Exchange, sandbox: string, target: boolean, id: string): void {
    const store: ResourceStore<StoredResource> = target ? this.targetStore : this.connectionStore;
    const item = store.get(id, sandbox);
    if (!item) {
      this.notFound(ex, target, id);
      return;
    }
    const blocker = this.dataflows.deleteBlocker(target ? 'target' : 'connection', id);
    if (blocker) {
      this.reject(ex, blocker);
      return;
    }
    if (!target && this.targetStore.all().some((t) => t.baseConnectionId === id)) {
      // Mirrors 1418-400 (API-NOTES §3.6): dependants must be deleted first.
      this.reply(ex, 400, { errorCode: '1418-400', errorMessage: `Connection ${id} is being used by flows/target connections. Delete them first.` });
      return;
    }
    store.delete(id);
    // [spec-src] documents 204, [spec-dst] 202 (API-NOTES §3.1); answer per resource kind.
    const status = item.connectionSpec.id === AepIds.S3_DESTINATION_CONNECTION_SPEC ? 202 : 204;
    this.reply(ex, status, undefined);
  }

  /**
   * `GET /connections/{id}/explore?objectType=folder&object=<bucket>/<folder>` (DATAFLOWS §2.1):
   * a folder listing when the connection's credentials may list it. What AEP answers when S3
   * denies the listing is undocumented (§2.3); modelled as 400 with AEP's connector relaying S3's
   * error in `errorMessage` (a Java-SDK-style text), which the handler must surface verbatim.
   */
  private async explore(ex: Exchange, sandbox: string, id: string): Promise<void> {
    const item = this.connectionStore.get(id, sandbox);
    if (!item) {
      this.notFound(ex, false, id);
      return;
    }
    const objectType = (ex.url.searchParams.get('objectType') ?? '').toLowerCase();
    const object = ex.url.searchParams.get('object') ?? '';
    if (item.connectionSpec.id !== AepIds.S3_SOURCE_CONNECTION_SPEC) {
      this.reply(ex, 404, { errorCode: '404', errorMessage: 'stand-in: explore is documented for source connections only (DATAFLOWS §2.4)' });
      return;
    }
    if (objectType !== 'folder' || !object) {
      this.reject(ex, violation('stand-in serves explore with objectType=folder&object=<bucket>/<folder> only'));
      return;
    }
    const [bucket, ...rest] = object.replace(/^\/+/, '').split('/');
    const prefix = rest.filter(Boolean).map((p) => `${p}/`).join('');
    const params = item.auth.params;
    if (params.bucketName !== undefined && params.bucketName !== bucket) {
      this.reply(ex, 400, { errorCode: '400', errorMessage: `Failed to explore connection: bucket ${bucket} is not the connection's bucket` });
      return;
    }
    if (this.s3Reader) {
      const principal = item.auth.specName === 'IAMRole Based'
        ? this.iamRoleArn
        : this.s3Reader.principalOfKey(String(params.s3AccessKey));
      const decision = principal === undefined ? 'denied' : await this.s3Reader.mayList(principal, bucket, prefix);
      if (decision !== 'allowed') {
        const code = principal === undefined ? 'InvalidAccessKeyId' : 'AccessDenied';
        this.reply(ex, 400, {
          errorCode: '400',
          errorMessage: `Failed to explore connection: ${code === 'AccessDenied' ? 'Access Denied' : 'The AWS Access Key Id you provided does not exist in our records.'} `
            + `(Service: Amazon S3; Status Code: 403; Error Code: ${code})`,
        });
        return;
      }
    }
    this.reply(ex, 200, []);
  }

  /** `GET /connectionSpecs/{id}` (DATAFLOWS §1.1): a list wrapper even by id. */
  private connectionSpec(ex: Exchange, specId: string): void {
    const doc = this.connectionSpecs()[specId];
    if (!doc) {
      this.reply(ex, 404, { errorCode: '404', errorMessage: `Connection spec ${specId} not found` });
      return;
    }
    this.reply(ex, 200, { items: [doc] });
  }

  /**
   * A connection body (or the resource a PATCH would produce) checked against the connection
   * spec served now; after a PATCH, `readOnly` auth params must keep their value.
   */
  private servedSpecProblem(body: Record<string, unknown>, stored: boolean, before?: StoredConnection): Violation | undefined {
    const doc = this.connectionSpecs()[(body.connectionSpec as { id: string }).id];
    const { code, problems } = checkAgainstServedSpec(body, doc, stored);
    if (before && !problems.length) {
      const auth = body.auth as { specName: string; params: Record<string, unknown> };
      for (const param of readOnlyAuthParams(doc, auth.specName)) {
        if (auth.params[param] !== before.auth.params[param]) problems.push(`auth.params.${param} is readOnly in auth spec '${auth.specName}': it cannot be changed once set`);
      }
    }
    return problems.length ? violation(problems, code) : undefined;
  }

  /** `GET /connectionSpecs/{id}/configs?authType=IamBasedAuthentication` (API-NOTES §4.2). */
  private configs(ex: Exchange, specId: string): void {
    if (specId !== AepIds.S3_SOURCE_CONNECTION_SPEC && specId !== AepIds.S3_DESTINATION_CONNECTION_SPEC) {
      this.reply(ex, 404, { errorCode: '404', errorMessage: `Connection spec ${specId} not found` });
      return;
    }
    if (specId !== AepIds.S3_SOURCE_CONNECTION_SPEC || ex.url.searchParams.get('authType') !== 'IamBasedAuthentication') {
      this.reject(ex, {
        status: 400,
        errorCode: '400',
        messages: ['stand-in only serves authType=IamBasedAuthentication configs of the S3 source connection spec'],
      });
      return;
    }
    this.reply(ex, 200, { configParams: { IAMRole: this.iamRoleArn } });
  }

  // ---------------------------------------------------------------- helpers

  private newResource(sandbox: string, input: Record<string, unknown>): StoredResource {
    const now = this.timestamp();
    const etag = newEtag();
    const spec = input.connectionSpec as { id: string; version: string };
    let sandboxId = this.sandboxIds.get(sandbox);
    if (!sandboxId) {
      sandboxId = randomUUID();
      this.sandboxIds.set(sandbox, sandboxId);
    }
    return {
      id: randomUUID(),
      createdAt: now,
      updatedAt: now,
      createdBy: `${this.credentials.clientId}@AdobeID`,
      updatedBy: `${this.credentials.clientId}@AdobeID`,
      createdClient: this.credentials.clientId,
      updatedClient: this.credentials.clientId,
      sandboxId,
      sandboxName: sandbox,
      imsOrgId: this.credentials.orgId,
      name: String(input.name),
      ...(input.description !== undefined ? { description: String(input.description) } : {}),
      connectionSpec: { id: spec.id, version: spec.version },
      state: 'enabled',
      version: etag,
      etag,
    };
  }

  /** Epoch ms, strictly increasing so "newest first" ordering is deterministic. */
  private timestamp(): number {
    this.lastTimestamp = Math.max(Date.now(), this.lastTimestamp + 1);
    return this.lastTimestamp;
  }

  private notFound(ex: Exchange, target: boolean, id: string): void {
    const kind = target ? 'Target connection' : 'Connection';
    this.reply(ex, 404, { errorCode: '404', errorMessage: `${kind} with id ${id} not found` });
  }

  /** Rejects an invalid body and records why (see {@link validationFailures}). */
  private reject(ex: Exchange, problem: Violation): void {
    const message = problem.messages.join('; ');
    this.validationFailures.push(`${ex.record.method} ${ex.record.path}: ${message}`);
    this.writeLog(`[aep] rejected ${ex.record.method} ${ex.record.path}: ${message}`);
    this.reply(ex, problem.status, { errorCode: problem.errorCode, errorMessage: message });
  }

  /** Hands the request to the contract check (Flow Service and Data Prep only; IMS has no spec here). */
  private judgeRequest(req: http.IncomingMessage, url: URL, method: string, rawBody: string): Exchange['contract'] {
    const service = [FLOW_SERVICE_PATH, DATA_PREP_PATH].find((p) => url.pathname === p || url.pathname.startsWith(`${p}/`));
    if (!this.contract || !service) {
      return undefined;
    }
    let body: unknown;
    if (rawBody && mediaType(req) === 'application/json') {
      try {
        body = JSON.parse(rawBody);
      } catch {
        body = rawBody;
      }
    }
    const rel = url.pathname.substring(service.length);
    const spec = governingSpec(service === FLOW_SERVICE_PATH ? 'flowservice' : 'conversion', rel, body, url.searchParams, (collection, id) => {
      const stores: Record<string, ResourceStore<StoredResource>> = {
        connections: this.connectionStore,
        targetConnections: this.targetStore,
        sourceConnections: this.dataflows.sources as unknown as ResourceStore<StoredResource>,
      };
      if (collection === 'flows') return this.dataflows.flows.all().find((f) => f.id === id)?.flowSpec.id;
      return stores[collection]?.all().find((item) => item.id === id)?.connectionSpec.id;
    });
    return this.contract.checkRequest(spec, { method, path: url.pathname, query: queryObject(url.searchParams), headers: req.headers, body });
  }

  private reply(ex: Exchange, status: number, written: unknown, headers: Record<string, string> = {}): void {
    const body = this.decorated && status === 200 && isDecoratedRead(ex.record.method, ex.record.path) ? decorateBody(written) : written;
    if (ex.contract && !ex.discard && ex.record.fault === undefined) {
      // An injected fault's answer is the test's own words; what the stand-in itself says is judged.
      this.contract?.checkResponse(ex.contract, status, body);
    }
    if (ex.discard) {
      ex.record.applied = { status, body: redactDeep(body) };
      this.writeLog(`[aep] ${ex.record.method} ${ex.record.path} applied -> ${status}, response discarded (fault: ${ex.record.fault})`);
      return;
    }
    ex.record.status = status;
    if (body !== undefined) {
      ex.record.response = redactDeep(body);
    }
    const fault = ex.record.fault ? ` (fault: ${ex.record.fault})` : '';
    this.writeLog(`[aep] ${ex.record.method} ${ex.record.path} -> ${status}${fault}`);
    sendJson(ex.res, status, body, headers);
  }

  /** Makes a just-created resource invisible to reads for `ex.visibleAfterMs` (`eventual` fault). */
  private lagVisibility(ex: Exchange, store: ResourceStore<StoredResource>, id: string): void {
    if (ex.visibleAfterMs === undefined) {
      return;
    }
    store.hide(id);
    this.defer(ex.visibleAfterMs, () => store.reveal(id));
  }

  private writeLog(line: string): void {
    // Messages never carry values by construction; this is the belt to those braces.
    this.log(redactText(line, [this.credentials.clientSecret, ...this.tokens.keys()]));
  }
}

/** What explore needs from the AWS stand-in (see {@link AepStandIn.useAws}). */
export interface S3Reader {
  principalOfKey(accessKeyId: string): string | undefined;
  mayList(principalArn: string, bucket: string, prefix: string): Promise<'allowed' | 'denied' | 'explicitly-denied'>;
}

/** What the `malformed` fault sends: JSON cut off mid-way. */
const MALFORMED_BODY = '{"items": [';

/** Flow Service adds `authorizedDate` to stored destination auth params (API-NOTES §3.2). */
function stampAuthorizedDate(item: StoredConnection): void {
  if (item.connectionSpec.id === AepIds.S3_DESTINATION_CONNECTION_SPEC && isObject(item.auth?.params)) {
    item.auth.params.authorizedDate = new Date().toISOString().substring(0, 10);
  }
}

/** The body as it may be recorded: parsed (JSON or form) and redacted; never raw text. */
function recordableBody(req: http.IncomingMessage, raw: string): unknown {
  if (!raw) {
    return undefined;
  }
  if (mediaType(req) === 'application/x-www-form-urlencoded') {
    return redactDeep(Object.fromEntries(new URLSearchParams(raw)));
  }
  try {
    return redactDeep(JSON.parse(raw));
  } catch {
    return `<unparseable body, ${Buffer.byteLength(raw)} bytes>`;
  }
}
