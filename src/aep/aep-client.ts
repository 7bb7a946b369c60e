import { AepError, classifyAepError, hasStatus } from './errors';
import { type HttpResponse, send } from './http';
import { dropImsToken, getImsToken, type ImsClientCredentials } from './ims';
import { readAepCredentials } from '../aws/secrets';
import { type Invocation, operationDeadline } from '../plumbing/config';
import { type RawProps, requireString } from '../plumbing/props';
import { retry } from '../plumbing/retry';
import { CommonProps } from '../private/contract';

/** Options of one {@link AepClient.request}. */
export interface AepRequestOptions {
  /** Query parameters in order; repeated keys allowed (`property=` twice means AND). */
  readonly query?: ReadonlyArray<readonly [string, string]>;
  /** JSON body. */
  readonly body?: unknown;
  /** etag for `If-Match`, sent verbatim (it already contains its quotes: API-NOTES §3.4). */
  readonly ifMatch?: string;
  /**
   * Whether transient failures are retried here (default true). Off for non-idempotent calls
   * (POST creates), whose callers retry at a level that can first check what was applied.
   */
  readonly retry?: boolean;
}

/** Who the client calls AEP as; mutable only by a credential re-read after IMS rejected it. */
interface AepIdentity {
  ims: ImsClientCredentials;
  orgId: string;
  /** Where the credential came from (re-read when IMS rejects the cached value). */
  readonly credentialsArn?: string;
  /** Whether the credential was read from Secrets Manager in this client's life (then never again). */
  reread: boolean;
}

/** IMS refused the client credential itself (invalid_client), not a transient failure. */
function isCredentialRejection(err: unknown): boolean {
  return err instanceof AepError && err.status !== undefined && err.status >= 400 && err.status < 500 && err.status !== 429;
}

/** The small Flow Service client: standard headers, IMS token, 401 refresh, retries. */
export class AepClient {
  /**
   * A client with the AEP credential named by the common properties (read once per container and
   * secret ARN: see `readAepCredentials`).
   */
  static async fromProps(props: RawProps, invocation: Invocation): Promise<AepClient> {
    const credentialsArn = requireString(props, CommonProps.CREDENTIALS_SECRET_ARN);
    const imsUrl = requireString(props, CommonProps.IMS_URL);
    const { credentials, fromCache } = await readAepCredentials(credentialsArn);
    return new AepClient({
      flowServiceUrl: requireString(props, CommonProps.FLOW_SERVICE_URL),
      sandboxName: requireString(props, CommonProps.SANDBOX_NAME),
      // A credential just read cannot be stale: only a cached one is worth reading again.
      identity: { ims: { imsUrl, ...credentials }, orgId: credentials.orgId, credentialsArn, reread: !fromCache },
      invocation,
    });
  }

  private readonly baseUrl: string;

  constructor(private readonly options: {
    readonly flowServiceUrl: string;
    readonly sandboxName: string;
    /** Shared by the copies {@link within} makes, so a credential re-read serves them all. */
    readonly identity: AepIdentity;
    readonly invocation: Invocation;
  }) {
    this.baseUrl = options.flowServiceUrl.replace(/\/+$/, '');
  }

  /**
   * Which AEP this client talks to: endpoint, org and sandbox. What AEP serves (connection specs)
   * is cached per this key, never per id alone: one stack may use two AEP environments.
   */
  get environment(): string {
    return [this.baseUrl, this.options.identity.orgId, this.options.sandboxName.toLowerCase()].join(' ');
  }

  /** The invocation's time budget and knobs. */
  get invocation(): Invocation {
    return this.options.invocation;
  }

  /**
   * This client with every request (and its retries) ending by `deadline`, so the calls nested
   * in one logical operation (lookup, POST, PATCH of a create) share its budget instead of
   * each getting a fresh one.
   */
  within(deadline: number): AepClient {
    const invocation = { ...this.options.invocation, deadline: Math.min(deadline, this.options.invocation.deadline) };
    return new AepClient({ ...this.options, invocation });
  }

  /**
   * Calls Flow Service. Retries 429/5xx/network errors/timeouts with backoff (bounded by attempts
   * and by the operation deadline) unless `retry: false`; rejects with an `AepError` otherwise.
   */
  async request(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, options: AepRequestOptions = {}): Promise<HttpResponse> {
    const operation = `${method} ${path}`;
    const { config } = this.options.invocation;
    const deadline = operationDeadline(this.options.invocation, config.deadlineMs);
    const once = () => this.sendWithFreshToken(operation, method, path, options, deadline);
    if (options.retry === false) return once();
    return retry({
      operation,
      maxAttempts: config.retryMaxAttempts,
      baseDelayMs: config.retryBaseMs,
      deadline,
      classify: classifyAepError,
    }, once);
  }

  /** One attempt; a 401 means the cached token died early, so it is replaced and the call repeated once. */
  private async sendWithFreshToken(
    operation: string, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, options: AepRequestOptions, deadline: number,
  ): Promise<HttpResponse> {
    try {
      return await this.sendOnce(operation, method, path, options, deadline);
    } catch (err) {
      if (!hasStatus(err, 401)) throw err;
      dropImsToken(this.options.identity.ims);
      return this.sendOnce(operation, method, path, options, deadline);
    }
  }

  /**
   * The IMS token. When IMS rejects the credential (a 4xx other than 429) and it came from the
   * container cache, the secret's value may have been rotated since it was read: it is read again
   * once, and the token requested again only if the value changed.
   */
  private async token(deadline: number): Promise<string> {
    const { config } = this.options.invocation;
    const identity = this.options.identity;
    const options = { timeoutMs: config.httpTimeoutMs, baseDelayMs: config.retryBaseMs, maxAttempts: config.retryMaxAttempts, deadline };
    try {
      return await getImsToken(identity.ims, options);
    } catch (err) {
      if (!isCredentialRejection(err) || identity.reread || !identity.credentialsArn) throw err;
      identity.reread = true;
      const { credentials: fresh } = await readAepCredentials(identity.credentialsArn, { fresh: true });
      const unchanged = fresh.clientId === identity.ims.clientId && fresh.clientSecret === identity.ims.clientSecret
        && fresh.scopes === identity.ims.scopes && fresh.orgId === identity.orgId;
      if (unchanged) throw err;
      identity.ims = { imsUrl: identity.ims.imsUrl, ...fresh };
      identity.orgId = fresh.orgId;
      return getImsToken(identity.ims, options);
    }
  }

  private async sendOnce(
    operation: string, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, options: AepRequestOptions, deadline: number,
  ): Promise<HttpResponse> {
    const { config } = this.options.invocation;
    const token = await this.token(deadline);
    const headers: Record<string, string> = {
      'Authorization': `Bearer ${token}`,
      'x-api-key': this.options.identity.ims.clientId,
      'x-gw-ims-org-id': this.options.identity.orgId,
      'x-sandbox-name': this.options.sandboxName.toLowerCase(),
      'Accept': 'application/json',
    };
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';
    if (options.ifMatch !== undefined) headers['If-Match'] = options.ifMatch;
    const query = (options.query ?? []).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
    return send({
      operation,
      method,
      url: `${this.baseUrl}${path}${query ? `?${query}` : ''}`,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      timeoutMs: Math.min(config.httpTimeoutMs, deadline - Date.now()),
    });
  }
}
