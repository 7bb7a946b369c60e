/**
 * Tiny HTTP helpers shared by the stand-ins. Plain `node:http`, no framework: the stand-ins must
 * behave like real servers on the wire (status codes, headers, sockets), nothing more.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Host every stand-in binds to. Loopback only: nothing may be reachable from elsewhere. */
export const LOOPBACK = '127.0.0.1';

/** Largest request body the stand-ins accept; Flow Service payloads are a few KB. */
const MAX_BODY_BYTES = 1024 * 1024;

/** Raised by {@link readBody} when the client sends more than {@link MAX_BODY_BYTES}. */
export class BodyTooLargeError extends Error {}

/** Reads the whole request body as UTF-8 text. */
export function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new BodyTooLargeError(`body larger than ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * Writes a JSON response. Writes to a socket the client already dropped (e.g. after a client-side
 * timeout during a `delay` fault) are silently ignored, as a real server would.
 */
export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  send(res, status, text, { ...(text ? { 'content-type': 'application/json' } : {}), ...headers });
}

/** Writes a raw response body (used for XML and deliberately malformed JSON). */
export function send(res: http.ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  if (res.writableEnded || res.destroyed) {
    return;
  }
  res.writeHead(status, { 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

/** The first value of a header (Node joins most duplicates, but `string[]` is possible). */
export function header(req: http.IncomingMessage, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** The media type of `Content-Type` without parameters, lower-cased (`application/json`). */
export function mediaType(req: http.IncomingMessage): string | undefined {
  return header(req, 'content-type')?.split(';')[0].trim().toLowerCase();
}

/** Query parameters as an object; repeated keys become arrays (`property=a&property=b`). */
export function queryObject(params: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const key of new Set(params.keys())) {
    const values = params.getAll(key);
    out[key] = values.length === 1 ? values[0] : values;
  }
  return out;
}

/** Starts `server` on loopback and resolves with the bound port (0 = ephemeral). */
export function listen(server: http.Server, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, LOOPBACK, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * Stops `server`. SDK clients and axios keep sockets alive, so idle connections are closed
 * explicitly; otherwise `close()` would wait for their keep-alive timeout.
 */
export function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close((err) => (err ? reject(err) : resolve()));
    server.closeAllConnections();
  });
}
