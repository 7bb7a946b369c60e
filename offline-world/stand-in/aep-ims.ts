/**
 * Adobe IMS, the OAuth server-to-server token endpoint (API-NOTES §2.1): client credentials in,
 * an opaque bearer token with `expires_in` out; and the token check the Flow Service gateway
 * applies to every call (§2.3).
 */
import { randomBytes } from 'node:crypto';
import type { FlowsExchange } from './aep-flows';
import type { AepCredentials } from './aep-options';
import { mediaType } from './http';

/** Path of the IMS token endpoint (API-NOTES §2.1). */
export const IMS_TOKEN_PATH = '/ims/token/v3';

/** The parts of `AepStandIn` IMS uses. */
export interface ImsHost {
  readonly credentials: AepCredentials;
  reply(ex: FlowsExchange, status: number, body: unknown): void;
}

/** Tokens issued and their expiry. */
export class AepIms {
  private readonly tokens = new Map<string, number>();
  private issuedCount = 0;

  constructor(private readonly host: ImsHost, private readonly ttlSeconds: number) {}

  /** How many tokens have been issued (over HTTP or with {@link issueToken}). */
  get issued(): number {
    return this.issuedCount;
  }

  /** Every token issued and not forgotten (to redact them from logs). */
  get values(): string[] {
    return [...this.tokens.keys()];
  }

  /** Issues a valid token without an HTTP round trip. */
  issueToken(): string {
    const token = randomBytes(32).toString('base64url');
    this.tokens.set(token, Date.now() + this.ttlSeconds * 1000);
    this.issuedCount += 1;
    return token;
  }

  /** Whether `token` was issued and has not expired. */
  isValid(token: string | undefined): boolean {
    const expiry = token === undefined ? undefined : this.tokens.get(token);
    return expiry !== undefined && expiry > Date.now();
  }

  /** Invalidates every issued token, as if they all expired now. */
  expireAll(): void {
    this.tokens.clear();
  }

  /** `POST /ims/token/v3`, form-encoded client credentials. */
  handle(ex: FlowsExchange): void {
    if (ex.record.method !== 'POST') {
      this.host.reply(ex, 405, { error: 'invalid_request', error_description: 'use POST' });
      return;
    }
    if (mediaType(ex.req) !== 'application/x-www-form-urlencoded') {
      this.host.reply(ex, 400, { error: 'invalid_request', error_description: 'Content-Type must be application/x-www-form-urlencoded' });
      return;
    }
    // Fields may come as query params too (Adobe recommends the body for secrets).
    const fields = new URLSearchParams(ex.url.searchParams);
    for (const [key, value] of new URLSearchParams(ex.rawBody)) {
      fields.set(key, value);
    }
    const missing = ['grant_type', 'client_id', 'client_secret', 'scope'].filter((f) => !fields.get(f));
    if (missing.length > 0) {
      this.host.reply(ex, 400, { error: 'invalid_request', error_description: `missing required parameter(s): ${missing.join(', ')}` });
      return;
    }
    if (fields.get('grant_type') !== 'client_credentials') {
      this.host.reply(ex, 400, { error: 'unsupported_grant_type', error_description: 'only client_credentials is supported' });
      return;
    }
    if (fields.get('client_id') !== this.host.credentials.clientId || fields.get('client_secret') !== this.host.credentials.clientSecret) {
      this.host.reply(ex, 401, { error: 'invalid_client', error_description: 'invalid client_id or client_secret' });
      return;
    }
    this.host.reply(ex, 200, { access_token: this.issueToken(), token_type: 'bearer', expires_in: this.ttlSeconds });
  }
}
