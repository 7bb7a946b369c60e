/**
 * A local stand-in for Adobe IMS (OAuth server-to-server token endpoint) and the Flow Service
 * connection APIs, as documented in shared/aep/API-NOTES.md. It is a real HTTP server on
 * 127.0.0.1 so the handler's HTTP client, retries and timeouts run unmodified against it.
 * This file is the server core (start/close, routing, gateway, faults, deferred work, reply,
 * recording, contract judging); each AEP collection or behaviour has its own file (README.md).
 */
import * as http from 'node:http';
import { AepConnectionSpecsRoute } from './aep-connection-spec-routes';
import { DEFAULT_CONNECTION_SPEC_VARIANT, type ConnectionSpecVariant } from './aep-connection-specs';
import { AepConnections, S3Reader, TargetConnectionPatch } from './aep-connections';
import { DeferredWork } from './aep-deferred';
import { Exchange, judgeRequest, recordableBody } from './aep-exchange';
import { applyFault, FaultHost } from './aep-fault-replies';
import { AepFlows, FlowSchemas, FlowsExchange, loadFlowSchemas, StoredFlow, StoredSourceConnection } from './aep-flows';
import { checkGateway, GatewayHost } from './aep-gateway';
import { AepIms, IMS_TOKEN_PATH } from './aep-ims';
import {
  AepCredentials, AepStandInOptions, DEFAULT_AEP_CREDENTIALS, DEFAULT_AEP_IAM_ROLE_ARN, FLOW_SERVICE_PATH, RecordedRequest,
} from './aep-options';
import { ResourceStamps } from './aep-resource-stamps';
import { Violation } from './aep-rules';
import { ResourceStore, StoredConnection, StoredResource, StoredTargetConnection } from './aep-store';
import { AepValidator } from './aep-validation';
import { ContractCheck, ContractViolation } from './contract-check';
import { FaultInjector, FaultSpec } from './faults';
import { decorateBody, isDecoratedRead } from './get-decoration';
import {
  BodyTooLargeError, closeServer, listen, LOOPBACK, mediaType, queryObject, readBody, sendJson,
} from './http';
import { redactDeep, redactHeaders, redactText } from './redact';
import { resolveSpecDir } from '../specs';

export * from './aep-options';
export { IMS_TOKEN_PATH } from './aep-ims';
export type { S3Reader, TargetConnectionPatch } from './aep-connections';

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

  /**
   * Time each request waits, once recorded, before it is handled and answered (ms; see
   * {@link AepStandInOptions.latencyMs}): a client sees every answer at least this late, and
   * requests it sends concurrently overlap. Kept by {@link reset}.
   */
  public latencyMs: number;

  private readonly server: http.Server;
  private readonly faults = new FaultInjector(FLOW_SERVICE_PATH);
  private readonly ims: AepIms;
  private readonly conns: AepConnections;
  private readonly specs: AepConnectionSpecsRoute;
  private readonly stamps: ResourceStamps;
  private readonly deferred = new DeferredWork();
  /** Responses a `timeout` fault holds open. */
  private readonly held = new Set<http.ServerResponse>();
  private readonly faultHost: FaultHost = {
    route: (ex) => this.route(ex),
    defer: (ms, work, cancel) => this.defer(ms, work, cancel),
    reply: (ex, status, body, headers) => this.reply(ex, status, body, headers),
    writeLog: (line) => this.writeLog(line),
    expireAllTokens: () => this.expireAllTokens(),
    hold: (res) => {
      this.held.add(res);
      res.on('close', () => this.held.delete(res));
    },
  };
  private readonly gatewayHost: GatewayHost;
  private port = 0;
  private decorated = false;

  /** Source connections, flows, flow specs, runs and mapping sets (aep-flows.ts). */
  public readonly dataflows: AepFlows;

  private constructor(
    options: AepStandInOptions, private readonly validator: AepValidator, private readonly log: (line: string) => void,
    flowSchemas?: FlowSchemas, private readonly contract?: ContractCheck,
  ) {
    this.latencyMs = options.latencyMs ?? 0;
    this.credentials = {
      clientId: options.clientId ?? DEFAULT_AEP_CREDENTIALS.clientId,
      clientSecret: options.clientSecret ?? DEFAULT_AEP_CREDENTIALS.clientSecret,
      orgId: options.orgId ?? DEFAULT_AEP_CREDENTIALS.orgId,
    };
    const reply = (ex: FlowsExchange, status: number, body: unknown, headers?: Record<string, string>) =>
      this.reply(ex as Exchange, status, body, headers);
    const reject = (ex: FlowsExchange, problem: Violation) => this.reject(ex as Exchange, problem);
    this.stamps = new ResourceStamps(this.credentials);
    this.ims = new AepIms({ credentials: this.credentials, reply }, options.tokenTtlSeconds ?? 86399);
    this.gatewayHost = { credentials: this.credentials, tokenValid: (token) => this.ims.isValid(token), reply };
    this.specs = new AepConnectionSpecsRoute({ reply, reject },
      options.iamRoleArn ?? DEFAULT_AEP_IAM_ROLE_ARN, options.connectionSpecVariant ?? DEFAULT_CONNECTION_SPEC_VARIANT);
    this.conns = new AepConnections({
      validator,
      clientId: this.credentials.clientId,
      reply,
      reject,
      newResource: (sandbox, input) => this.stamps.newResource(sandbox, input),
      timestamp: () => this.stamps.timestamp(),
      lagVisibility: (ex, store, id) => this.lagVisibility(ex as Exchange, store, id),
      baseUrl: () => this.baseUrl,
      flowServiceUrl: () => this.flowServiceUrl,
      connectionSpecs: () => this.specs.documents(),
      iamRoleArn: () => this.specs.iamRoleArn,
      deleteBlocker: (kind, id) => this.dataflows.deleteBlocker(kind, id),
      writeLog: (line) => this.writeLog(line),
    }, options.targetConnectionPatch ?? 'accepted');
    this.dataflows = new AepFlows({
      reply,
      reject,
      checkGateway: (ex) => checkGateway(this.gatewayHost, ex),
      newResource: (sandbox, input) => this.stamps.newResource(sandbox, input),
      timestamp: () => this.stamps.timestamp(),
      lagVisibility: (ex, store, id) => this.lagVisibility(ex as Exchange, store, id),
      defer: (ms, work) => this.defer(ms, work),
      connections: this.conns.connectionStore,
      targets: this.conns.targetStore,
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
    return this.ims.issued;
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
    await this.deferred.settle();
  }

  /** Runs every pending delayed response, application and reveal now, as if their time had come. */
  public flushPending(): void {
    this.deferred.flush();
  }

  /**
   * Stored base connection with secrets in clear (test-only view; `GET` over HTTP masks them).
   * Like every test accessor it includes resources an `eventual` fault still hides from the API.
   */
  public getConnection(id: string): StoredConnection | undefined {
    const item = this.conns.connectionStore.all().find((c) => c.id === id);
    return item && structuredClone(item);
  }

  /** Stored target connection. */
  public getTargetConnection(id: string): StoredTargetConnection | undefined {
    const item = this.conns.targetStore.all().find((c) => c.id === id);
    return item && structuredClone(item);
  }

  /** All base connections (every sandbox, oldest first, secrets in clear). */
  public connections(): StoredConnection[] {
    return structuredClone(this.conns.connectionStore.all());
  }

  /** All target connections (every sandbox, oldest first). */
  public targetConnections(): StoredTargetConnection[] {
    return structuredClone(this.conns.targetStore.all());
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
    return !this.conns.connectionStore.isHidden(id) && !this.conns.targetStore.isHidden(id);
  }

  /** Issues a valid token without an HTTP round trip (for tests that are not about IMS). */
  public issueToken(): string {
    return this.ims.issueToken();
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
    this.ims.expireAll();
  }

  /** Changes what the configs endpoint returns as `IAMRole` (e.g. a malformed value). */
  public setIamRoleArn(value: string): void {
    this.specs.iamRoleArn = value;
  }

  /**
   * Switches the documented variant of the S3 connection specs that `GET /connectionSpecs/{id}`
   * serves and that connection bodies are checked against (see aep-connection-specs.ts).
   */
  public setConnectionSpecVariant(variant: ConnectionSpecVariant): void {
    this.specs.variant = variant;
  }

  /** The S3 connection spec items served now, by id. */
  public connectionSpecs(): Record<string, Record<string, unknown>> {
    return this.specs.documents();
  }

  /**
   * Lets explore judge reachability the way AEP would: by whether the connection's credentials
   * (its access key, or the AEP IAM role for `IAMRole Based`) may `s3:ListBucket` the folder, as
   * the AWS stand-in's authorizer decides. Without it, every explore succeeds.
   */
  public useAws(aws: S3Reader | undefined): void {
    this.conns.s3Reader = aws;
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
    this.conns.clear();
    this.dataflows.clear();
    this.ims.expireAll();
    this.stamps.clear();
    this.faults.clear();
    this.resetRecording();
    this.specs.reset();
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
    this.conns.targetPatch = mode;
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
   * A crowded sandbox (issue 19): `count` S3 destinations as people make them in the AEP UI (no
   * adoption marker): each a base connection of the S3 destination spec, its target connection,
   * and the audience export on it, a Profile Store source connection and an S3 audience flow
   * (three audiences). Older than anything a test creates next. Stored directly: `count` can be
   * thousands and only what the client then pays to work beside them is measured. Every list
   * (connections, target and source connections, flows) pages them at 100 as any others.
   * With `newer`, they are stamped an hour ahead instead: listed (newest first) before anything a
   * test creates next, as objects made in the UI meanwhile would be.
   */
  public crowd(count: number, sandbox = 'prod', newer = false): void {
    this.dataflows.crowd(this.conns.crowd(count, sandbox, newer), sandbox, newer);
  }

  /** Stores a base connection as given, bypassing the API: a POST applied late, or one made in the UI. */
  public putConnection(item: StoredConnection): void {
    this.conns.connectionStore.put(item);
  }

  /** Stops the server, dropping open connections and abandoning delayed requests. */
  public async close(): Promise<void> {
    this.cancelPending();
    await closeServer(this.server);
    this.contract?.clear(); // names what is still pending, for the measuring report
  }

  private cancelPending(): void {
    this.deferred.cancelAll();
    for (const res of this.held) {
      res.destroy();
    }
    this.held.clear();
  }

  /** Schedules `work` in `ms`; {@link settle} waits for it, reset/close call `cancel` instead. */
  private defer(ms: number, work: () => void, cancel?: () => void): void {
    this.deferred.defer(ms, work, cancel);
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
    if (this.latencyMs > 0) {
      await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    }
    const ex: Exchange = { req, res, url, rawBody, record, contract: tooLarge ? undefined : this.judgeRequest(req, url, method, rawBody) };
    if (tooLarge) {
      this.reply(ex, 413, { errorCode: '413', errorMessage: 'request body too large' });
      return;
    }

    const fault = this.faults.take(method, url.pathname);
    if (fault) {
      record.fault = fault.kind;
      applyFault(this.faultHost, ex, fault);
    } else {
      this.route(ex);
    }
  }

  /** Handles a request: dispatches it, and turns a stand-in bug into a 500 rather than a hang. */
  private route(ex: Exchange): void {
    try {
      if (ex.url.pathname === IMS_TOKEN_PATH) {
        this.ims.handle(ex);
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

  // ---------------------------------------------------------------- Flow Service (API-NOTES §2.3, §3)

  private handleFlowService(ex: Exchange): void {
    const sandbox = checkGateway(this.gatewayHost, ex);
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
    const parts = rel.split('/').slice(1);
    if (this.conns.route(ex, sandbox, method, parts, body) || this.specs.route(ex, method, parts)) {
      return;
    }
    this.reply(ex, 404, { errorCode: '404', errorMessage: `stand-in: no route for ${method} ${ex.url.pathname}` });
  }

  // ---------------------------------------------------------------- helpers

  /** Rejects an invalid body and records why (see {@link validationFailures}). */
  private reject(ex: Exchange, problem: Violation): void {
    const message = problem.messages.join('; ');
    this.validationFailures.push(`${ex.record.method} ${ex.record.path}: ${message}`);
    this.writeLog(`[aep] rejected ${ex.record.method} ${ex.record.path}: ${message}`);
    this.reply(ex, problem.status, { errorCode: problem.errorCode, errorMessage: message });
  }

  /** Hands the request to the contract check (Flow Service and Data Prep only; IMS has no spec here). */
  private judgeRequest(req: http.IncomingMessage, url: URL, method: string, rawBody: string): Exchange['contract'] {
    return judgeRequest(this.contract, (collection, id) => {
      const stores: Record<string, ResourceStore<StoredResource>> = {
        connections: this.conns.connectionStore,
        targetConnections: this.conns.targetStore,
        sourceConnections: this.dataflows.sources as unknown as ResourceStore<StoredResource>,
      };
      if (collection === 'flows') return this.dataflows.flows.all().find((f) => f.id === id)?.flowSpec.id;
      return stores[collection]?.all().find((item) => item.id === id)?.connectionSpec.id;
    }, req, url, method, rawBody);
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
    this.log(redactText(line, [this.credentials.clientSecret, ...this.ims.values]));
  }
}
