import { AepError, classifyAepError } from './errors';
import { send } from './http';
import { registerSecret } from '../plumbing/log';
import { retry } from '../plumbing/retry';

/** Who asks IMS for a token. */
export interface ImsClientCredentials {
  /** IMS base URL; `/ims/token/v3` is appended. */
  readonly imsUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Comma-separated scopes. */
  readonly scopes: string;
}

/** Retry bounds for the token call. */
export interface ImsRetryOptions {
  readonly timeoutMs: number;
  readonly baseDelayMs: number;
  readonly maxAttempts: number;
  /** Epoch ms. */
  readonly deadline: number;
}

interface CachedToken {
  readonly accessToken: string;
  readonly refreshAt: number;
}

/** IMS tokens live ~24 h: one per warm container saves a round trip on every event. */
const cache = new Map<string, CachedToken>();

const TOKEN_OPERATION = 'POST /ims/token/v3';

function cacheKey(c: ImsClientCredentials): string {
  return `${c.imsUrl}\n${c.clientId}\n${c.scopes}`;
}

/**
 * An access token for OAuth Server-to-Server (API-NOTES §2.1), from the container cache while it
 * has some life left, otherwise freshly requested (retrying 429/5xx/network errors: the token
 * call has no side effect).
 */
export async function getImsToken(c: ImsClientCredentials, options: ImsRetryOptions): Promise<string> {
  const key = cacheKey(c);
  const cached = cache.get(key);
  if (cached && Date.now() < cached.refreshAt) {
    // The redactor starts empty each invocation; a cached token is still a secret.
    registerSecret(cached.accessToken);
    return cached.accessToken;
  }
  const url = `${c.imsUrl.replace(/\/+$/, '')}/ims/token/v3`;
  const body = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: c.clientId,
    client_secret: c.clientSecret,
    scope: c.scopes,
  }).toString();
  const started = Date.now();
  const res = await retry({
    operation: TOKEN_OPERATION,
    maxAttempts: options.maxAttempts,
    baseDelayMs: options.baseDelayMs,
    deadline: options.deadline,
    classify: classifyAepError,
  }, () => send({
    operation: TOKEN_OPERATION,
    method: 'POST',
    url,
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Accept': 'application/json' },
    body,
    timeoutMs: Math.min(options.timeoutMs, options.deadline - Date.now()),
  }).then(parseTokenResponse));
  registerSecret(res.accessToken);
  // Renew ahead of expiry (10% of the lifetime, at most 5 min) so a token never dies mid-event.
  const lifetimeMs = res.expiresInSeconds * 1000;
  cache.set(key, { accessToken: res.accessToken, refreshAt: started + lifetimeMs - Math.min(300_000, lifetimeMs / 10) });
  return res.accessToken;
}

/** Forgets the cached token (after a 401, the token was revoked or expired early). */
export function dropImsToken(c: ImsClientCredentials): void {
  cache.delete(cacheKey(c));
}

function parseTokenResponse(res: { data: unknown }): { accessToken: string; expiresInSeconds: number } {
  const d = (res.data ?? {}) as { access_token?: unknown; expires_in?: unknown };
  const expiresIn = Number(d.expires_in);
  if (typeof d.access_token !== 'string' || d.access_token === '' || !Number.isFinite(expiresIn) || expiresIn <= 0) {
    throw new AepError(TOKEN_OPERATION, 200, undefined, 'response lacks access_token or expires_in', true);
  }
  registerSecret(d.access_token);
  // expires_in is seconds for OAuth S2S (the retired JWT exchange used ms: API-NOTES §2.1).
  return { accessToken: d.access_token, expiresInSeconds: expiresIn };
}
