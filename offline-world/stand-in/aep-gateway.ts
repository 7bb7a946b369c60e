/**
 * The Adobe I/O gateway in front of Flow Service (API-NOTES §2.3): bearer token issued by IMS and
 * unexpired, `x-api-key` = client id, `x-gw-ims-org-id` = org, `x-sandbox-name` present and
 * lower-case; each failure answered as the gateway does, before any service sees the request.
 */
import type { FlowsExchange } from './aep-flows';
import type { AepCredentials } from './aep-options';
import { header } from './http';

/** The parts of `AepStandIn` the gateway uses. */
export interface GatewayHost {
  readonly credentials: AepCredentials;
  /** Whether IMS issued this token and it has not expired (aep-ims.ts). */
  tokenValid(token: string | undefined): boolean;
  reply(ex: FlowsExchange, status: number, body: unknown): void;
}

/** The API gateway checks (token, API key, org, sandbox); returns the sandbox or undefined after replying. */
export function checkGateway(host: GatewayHost, ex: FlowsExchange): string | undefined {
  const auth = header(ex.req, 'authorization') ?? '';
  const match = /^Bearer (\S+)$/i.exec(auth);
  if (!host.tokenValid(match?.[1])) {
    host.reply(ex, 401, { error_code: '401013', message: 'Oauth token is not valid' });
    return undefined;
  }
  if (header(ex.req, 'x-api-key') !== host.credentials.clientId) {
    host.reply(ex, 403, { error_code: '403000', message: 'Api Key is invalid' });
    return undefined;
  }
  if (header(ex.req, 'x-gw-ims-org-id') !== host.credentials.orgId) {
    host.reply(ex, 403, { error_code: '403025', message: 'Profile is not valid' });
    return undefined;
  }
  const sandbox = header(ex.req, 'x-sandbox-name');
  if (!sandbox) {
    host.reply(ex, 400, { errorMessage: 'The header x-sandbox-name is missing', errorCode: '2105-400' });
    return undefined;
  }
  if (sandbox !== sandbox.toLowerCase()) {
    // Sandbox names are all lower-case (API-NOTES §2.3); a mixed-case header is a client bug.
    host.reply(ex, 400, { errorMessage: 'x-sandbox-name must be the all-lowercase sandbox name', errorCode: '400' });
    return undefined;
  }
  return sandbox;
}
