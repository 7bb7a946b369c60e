/**
 * Server-side AWS Signature V4 verification for the AWS stand-in: recomputes the signature of
 * an incoming request with the secret registered for its access key, using the same signer the
 * SDK uses (`@smithy/signature-v4`), so a client with the wrong secret is refused like by AWS.
 */
import { timingSafeEqual } from 'node:crypto';
import type * as http from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';

/** The parts of an `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` header. */
export interface SigV4Authorization {
  readonly accessKeyId: string;
  readonly shortDate: string;
  readonly region: string;
  readonly service: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
}

const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request,\s*SignedHeaders=([^,]+),\s*Signature=([0-9a-f]{64})$/;

/** Parses a SigV4 `Authorization` header; undefined when absent or not SigV4. */
export function parseSigV4Authorization(value: string | undefined): SigV4Authorization | undefined {
  const match = value ? AUTHORIZATION.exec(value.trim()) : null;
  if (!match) {
    return undefined;
  }
  const [, accessKeyId, shortDate, region, service, signedHeaders, signature] = match;
  return { accessKeyId, shortDate, region, service, signedHeaders: signedHeaders.split(';'), signature };
}

/** Request parts needed to recompute a signature. */
export interface SignedRequest {
  readonly req: http.IncomingMessage;
  readonly url: URL;
  readonly body: string;
}

/**
 * True when `auth.signature` is the signature of the request under `secretAccessKey` (and the
 * session token the request carries). Only the headers the client declared as signed are used,
 * exactly as AWS does.
 */
export async function verifySigV4(request: SignedRequest, auth: SigV4Authorization, secretAccessKey: string): Promise<boolean> {
  const amzDate = request.req.headers['x-amz-date'];
  if (typeof amzDate !== 'string' || !/^\d{8}T\d{6}Z$/.test(amzDate) || !amzDate.startsWith(auth.shortDate)) {
    return false;
  }
  const signingDate = new Date(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`);
  const headers: Record<string, string> = {};
  for (const name of auth.signedHeaders) {
    const value = request.req.headers[name];
    if (value === undefined) {
      return false;
    }
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string | string[]> = {};
  for (const key of new Set(request.url.searchParams.keys())) {
    const values = request.url.searchParams.getAll(key);
    query[key] = values.length === 1 ? values[0] : values;
  }
  const sessionToken = headers['x-amz-security-token'];
  const signer = new SignatureV4({
    credentials: { accessKeyId: auth.accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) },
    region: auth.region,
    service: auth.service,
    sha256: Sha256,
    // S3 signs the path as sent (no second URI encoding), every other service double-encodes.
    uriEscapePath: auth.service !== 's3',
  });
  const signed = await signer.sign({
    method: request.req.method ?? 'POST',
    protocol: 'http:',
    hostname: request.url.hostname,
    port: Number(request.url.port),
    path: request.url.pathname,
    query,
    headers,
    body: request.body,
  }, { signingDate, signingRegion: auth.region, signingService: auth.service });
  const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization))?.[1] ?? '';
  return expected.length === auth.signature.length && timingSafeEqual(Buffer.from(expected), Buffer.from(auth.signature));
}
