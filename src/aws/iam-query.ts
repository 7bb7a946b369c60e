// Types only: the signer's modules are required on first use (see signerModules).
// Inlined into the handler and CLI bundles by esbuild (devDependencies, like axios).
// eslint-disable-next-line import/no-extraneous-dependencies
import type { SignatureV4 } from '@smithy/signature-v4';

/**
 * The signer and its hash, required when the first IAM call is signed rather than at import: they
 * pull in @smithy/core (~130 KB of the handler bundle), and only the key watch and the access-key
 * cleanup sign IAM calls, so every other event's cold start no longer evaluates them (esbuild
 * keeps a `require` inside a function lazy).
 */
function signerModules(): { SignatureV4: typeof SignatureV4; Sha256: typeof import('@aws-crypto/sha256-js').Sha256 } {
  /* eslint-disable @typescript-eslint/no-require-imports, import/no-extraneous-dependencies */
  return { SignatureV4: require('@smithy/signature-v4').SignatureV4, Sha256: require('@aws-crypto/sha256-js').Sha256 };
  /* eslint-enable @typescript-eslint/no-require-imports, import/no-extraneous-dependencies */
}

/**
 * One IAM Query API call, SigV4-signed. The handler (key watch, access-key cleanup) and the doctor
 * (GetRole) make a handful of IAM calls; the signer both bundles already carry is enough for them,
 * where an IAM SDK client would add weight (and the Lambda runtime does not ship one in every version).
 */

/** Credentials as the signer takes them: a key, or the SDK clients' credential chain. */
export type IamCredentials = ConstructorParameters<typeof SignatureV4>[0]['credentials'];

/** A refusal or failure of IAM with AWS's error code (`AccessDenied`, `NoSuchEntity`, `LimitExceeded`, …). */
export class IamError extends Error {
  constructor(readonly code: string, readonly status: number, message: string) {
    super(message);
    this.name = 'IamError';
  }
}

/** Where IAM answers for a region's partition (IAM is global per partition), and the signing region. */
export function iamEndpoint(region: string | undefined, env: Record<string, string | undefined>): { url: string; signingRegion: string } {
  const override = env.AWS_ENDPOINT_URL_IAM ?? env.AWS_ENDPOINT_URL;
  if (region?.startsWith('cn-')) return { url: override ?? 'https://iam.cn-north-1.amazonaws.com.cn', signingRegion: 'cn-north-1' };
  if (region?.startsWith('us-gov-')) return { url: override ?? 'https://iam.us-gov.amazonaws.com', signingRegion: 'us-gov-west-1' };
  return { url: override ?? 'https://iam.amazonaws.com', signingRegion: 'us-east-1' };
}

/** What one call needs besides its action and parameters. */
export interface IamQueryOptions {
  readonly credentials: IamCredentials;
  /** The caller's region: it names the partition. */
  readonly region?: string;
  readonly env: Record<string, string | undefined>;
  readonly timeoutMs: number;
}

/**
 * Sends `action` once and answers the response XML. Rejects with an {@link IamError} carrying AWS's
 * code; the message names the action and the code (and AWS's message when `withMessage`), never
 * the parameters (a role or user name may be confidential).
 */
export async function iamQuery(
  action: string, params: Record<string, string>, options: IamQueryOptions & { readonly withMessage?: boolean },
): Promise<string> {
  const { url, signingRegion } = iamEndpoint(options.region, options.env);
  const endpoint = new URL(url);
  const body = new URLSearchParams({ Action: action, ...params, Version: '2010-05-08' }).toString();
  const { SignatureV4: Signer, Sha256 } = signerModules();
  const signer = new Signer({ credentials: options.credentials, region: signingRegion, service: 'iam', sha256: Sha256 });
  const signed = await signer.sign({
    method: 'POST',
    protocol: endpoint.protocol,
    hostname: endpoint.hostname,
    port: endpoint.port ? Number(endpoint.port) : undefined,
    path: endpoint.pathname || '/',
    headers: { 'host': endpoint.host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body,
  });
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers: signed.headers as Record<string, string>, body, signal: AbortSignal.timeout(options.timeoutMs) });
  } catch (err) {
    throw new IamError('NetworkError', 0, `IAM ${action} could not reach ${endpoint.host}: ${(err as Error).message}`);
  }
  const text = await res.text();
  if (!res.ok) {
    const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? `HTTP ${res.status}`;
    const message = options.withMessage ? /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? '' : '';
    throw new IamError(code, res.status, `IAM ${action} failed: ${code} (HTTP ${res.status})${message ? `: ${message}` : ''}`);
  }
  return text;
}
