import { axios } from './axios-loader';
import { AepError, errorFromNetwork, errorFromResponse } from './errors';

/** One HTTP exchange with AEP or IMS. */
export interface HttpRequest {
  /** Label for errors and logs, e.g. `PATCH /connections/{id}`. */
  readonly operation: string;
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  readonly url: string;
  readonly headers: Record<string, string>;
  /** Already-serialized body. */
  readonly body?: string;
  readonly timeoutMs: number;
}

/** A successful (2xx) response with its JSON body parsed. */
export interface HttpResponse {
  readonly status: number;
  /** Parsed JSON, or undefined for an empty body (202/204). */
  readonly data: unknown;
  readonly headers: Record<string, unknown>;
}

// Every status resolves and the body stays raw text: statuses and JSON parsing are handled
// below, so no axios error (whose `config` holds the Authorization header and the body) ever
// escapes this module.
const client = axios.create({
  validateStatus: () => true,
  responseType: 'text',
  transformResponse: [(data: unknown) => data],
  transitional: { clarifyTimeoutError: true },
  maxRedirects: 0,
});

/**
 * Sends one request, once. Resolves for 2xx with a parsed body; rejects with an {@link AepError}
 * for anything else, including a 2xx whose body is not JSON (retryable: a truncated body from a
 * flaky proxy is worth another attempt).
 */
export async function send(req: HttpRequest): Promise<HttpResponse> {
  let res;
  try {
    res = await client.request<string>({
      method: req.method,
      url: req.url,
      headers: req.headers,
      data: req.body,
      timeout: Math.max(1, req.timeoutMs),
    });
  } catch (err) {
    throw errorFromNetwork(req.operation, err);
  }
  const headers = Object.fromEntries(Object.entries(res.headers ?? {}));
  if (res.status < 200 || res.status >= 300) {
    throw errorFromResponse(req.operation, res.status, res.data, headers);
  }
  const text = typeof res.data === 'string' ? res.data.trim() : '';
  if (text === '') return { status: res.status, data: undefined, headers };
  try {
    return { status: res.status, data: JSON.parse(text), headers };
  } catch {
    throw new AepError(req.operation, res.status, undefined, 'response body is not valid JSON', true);
  }
}
