import { classifyAepError, hasStatus } from './errors';
import { type HttpResponse, send } from './http';
import { dropImsToken, getImsToken, type ImsClientCredentials } from './ims';
import { CommonProps } from '../../private/contract';
import { readAepCredentials } from '../aws/secrets';
import { type Invocation, operationDeadline } from '../plumbing/config';
import { type RawProps, requireString } from '../plumbing/props';
import { retry } from '../plumbing/retry';

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

/** The small Flow Service client: standard headers, IMS token, 401 refresh, retries. */
export class AepClient {
  /** Reads the AEP credentials secret named by the common properties and builds a client. */
  static async fromProps(props: RawProps, invocation: Invocation): Promise<AepClient> {
    const credentials = await readAepCredentials(requireString(props, CommonProps.CREDENTIALS_SECRET_ARN));
    return new AepClient({
      flowServiceUrl: requireString(props, CommonProps.FLOW_SERVICE_URL),
      sandboxName: requireString(props, CommonProps.SANDBOX_NAME),
      ims: { imsUrl: requireString(props, CommonProps.IMS_URL), ...credentials },
      orgId: credentials.orgId,
      invocation,
    });
  }

  private readonly baseUrl: string;

  constructor(private readonly options: {
    readonly flowServiceUrl: string;
    readonly sandboxName: string;
    readonly ims: ImsClientCredentials;
    readonly orgId: string;
    readonly invocation: Invocation;
  }) {
    this.baseUrl = options.flowServiceUrl.replace(/\/+$/, '');
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
      dropImsToken(this.options.ims);
      return this.sendOnce(operation, method, path, options, deadline);
    }
  }

  private async sendOnce(
    operation: string, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, options: AepRequestOptions, deadline: number,
  ): Promise<HttpResponse> {
    const { config } = this.options.invocation;
    const token = await getImsToken(this.options.ims, {
      timeoutMs: config.httpTimeoutMs,
      baseDelayMs: config.retryBaseMs,
      maxAttempts: config.retryMaxAttempts,
      deadline,
    });
    const headers: Record<string, string> = {
      'Authorization': `Bearer ${token}`,
      'x-api-key': this.options.ims.clientId,
      'x-gw-ims-org-id': this.options.orgId,
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
