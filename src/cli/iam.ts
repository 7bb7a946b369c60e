// Bundled with esbuild into assets/cli/index.js (the signer is inlined there).
// eslint-disable-next-line import/no-extraneous-dependencies
import { Sha256 } from '@aws-crypto/sha256-js';
// eslint-disable-next-line import/no-extraneous-dependencies
import { SignatureV4 } from '@smithy/signature-v4';

/**
 * IAM `GetRole`, the one IAM call the doctor makes, as a SigV4-signed Query request. No IAM SDK
 * client is bundled for it: the signer and the credential chain of the SDK clients the CLI already
 * carries are enough for one read.
 */

/** The SDK clients' credential chain (`client.config.credentials`). */
type CredentialProvider = ConstructorParameters<typeof SignatureV4>[0]['credentials'];

/** A refusal or failure of IAM, with AWS's error code (`AccessDenied`, `NoSuchEntity`, …). */
export class IamError extends Error {
  constructor(readonly code: string, readonly status: number, message: string) {
    super(message);
    this.name = 'IamError';
  }
}

/** Where IAM answers for a region's partition (IAM is global per partition), and the signing region. */
function iamEndpoint(region: string | undefined, env: Record<string, string | undefined>): { url: string; signingRegion: string } {
  const override = env.AWS_ENDPOINT_URL_IAM ?? env.AWS_ENDPOINT_URL;
  if (region?.startsWith('cn-')) return { url: override ?? 'https://iam.cn-north-1.amazonaws.com.cn', signingRegion: 'cn-north-1' };
  if (region?.startsWith('us-gov-')) return { url: override ?? 'https://iam.us-gov.amazonaws.com', signingRegion: 'us-gov-west-1' };
  return { url: override ?? 'https://iam.amazonaws.com', signingRegion: 'us-east-1' };
}

/**
 * The role's trust policy (`AssumeRolePolicyDocument`, decoded). Rejects with an {@link IamError}
 * carrying AWS's code; its message never contains the role name (Adobe asks to keep destination
 * role names confidential), only the code.
 */
export async function getRoleTrust(
  roleName: string,
  options: { credentials: CredentialProvider; region?: string; env: Record<string, string | undefined>; timeoutMs: number },
): Promise<unknown> {
  const { url, signingRegion } = iamEndpoint(options.region, options.env);
  const endpoint = new URL(url);
  const body = new URLSearchParams({ Action: 'GetRole', RoleName: roleName, Version: '2010-05-08' }).toString();
  const signer = new SignatureV4({ credentials: options.credentials, region: signingRegion, service: 'iam', sha256: Sha256 });
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
    res = await fetch(url, {
      method: 'POST',
      headers: signed.headers as Record<string, string>,
      body,
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (err) {
    throw new IamError('NetworkError', 0, `IAM GetRole could not reach ${endpoint.host}: ${(err as Error).message}`);
  }
  const text = await res.text();
  if (!res.ok) {
    const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? `HTTP ${res.status}`;
    throw new IamError(code, res.status, `IAM GetRole failed: ${code} (HTTP ${res.status})`);
  }
  const encoded = /<AssumeRolePolicyDocument>([^<]*)<\/AssumeRolePolicyDocument>/.exec(text)?.[1];
  if (encoded === undefined) throw new IamError('MalformedResponse', res.status, 'IAM GetRole answered without AssumeRolePolicyDocument');
  return JSON.parse(decodeURIComponent(encoded));
}
