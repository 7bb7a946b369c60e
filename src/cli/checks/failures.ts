import type { CheckStatus } from './types';
import { AepError } from '../../aep/errors';
import { errorMessage } from '../../plumbing/log';
import { RetryExhaustedError } from '../../plumbing/retry';

/** Stops the run with exit code 3: the credential cannot be used, or a host cannot be reached. */
export class CannotAuthenticate extends Error {}

/** Network error codes that no retry fixes soon: the name does not resolve or nothing listens. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'ETIMEDOUT', 'ECONNABORTED']);

/** The AEP error behind `err`, also when retries ran out on it. */
export function aepErrorOf(err: unknown): AepError | undefined {
  return err instanceof AepError ? err : err instanceof RetryExhaustedError && err.lastError instanceof AepError ? err.lastError : undefined;
}

/** The network error code (`ECONNREFUSED`, …) when AEP or IMS never answered, else undefined. */
export function networkCode(err: unknown): string | undefined {
  const aep = aepErrorOf(err);
  return aep && aep.status === undefined && aep.code && UNREACHABLE.has(aep.code) ? aep.code : undefined;
}

/** `host:port` of a URL, for messages that must say which host failed. */
export function hostOf(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || (u.protocol === 'https:' ? '443' : '80')}`;
}

/** What a network code means, in words. */
export function networkMeaning(code: string): string {
  switch (code) {
    case 'ECONNREFUSED': return 'connection refused (nothing listens there)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN': return 'the name does not resolve (DNS)';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH': return 'no route to the host';
    case 'ECONNRESET': return 'the connection was reset';
    default: return 'no answer in time';
  }
}

/** The fix for a host that cannot be reached; `flag` is the option that sets it. */
export function reachAdvice(flag: string): string {
  return `check ${flag}, DNS, and the network path from this machine (firewall, VPN, HTTPS_PROXY)`;
}

export function imsHint(err: unknown): string {
  const status = aepErrorOf(err)?.status;
  if (status === 400 || status === 401) {
    return 'IMS refused the credential: check clientId and clientSecret against the OAuth Server-to-Server credential in the Adobe Developer Console (a rotated secret must be stored again), and the scopes.';
  }
  return 'IMS could not be reached or failed: check --ims-url and the network path (proxy, firewall).';
}

/** Gateway refusals that no permission change in a product profile fixes: wrong org, API key or token. */
export function isGatewayRejection(err: AepError): boolean {
  return err.status === 401 || (err.status === 403 && (err.code === '403000' || err.code === '403025'));
}

export function gatewayMessage(err: AepError, sandbox: string): string {
  const why = err.code === '403025'
    ? 'the org id does not match the credential, or the credential has no product profile in this org'
    : err.code === '403000' ? 'the API key (client id) is not enabled for Experience Platform APIs' : 'the token was not accepted';
  return `the AEP gateway refused the credential for sandbox ${sandbox}: ${err.message} (${why}; add the Experience Platform API to the project in the Adobe Developer Console and check orgId)`;
}

/**
 * AEP permission errors (Flow Service error catalog): `2118-403` "The permission write is
 * missing", `2121-403` "The permission manage is denied on resource Enterprise Source", `2120-403`.
 */
export function permissionMeaning(err: AepError, sandbox: string): string | undefined {
  const text = `${err.code ?? ''} ${err.detail}`;
  if (err.status !== 403 || !/21(18|20|21)-403|permission/i.test(text)) return undefined;
  const named = /permission (\w+) is (?:missing|denied)(?: on resource ([\w ]+))?/i.exec(err.detail);
  const what = named ? `the '${named[1]}' permission${named[2] ? ` on '${named[2].trim()}'` : ''}` : 'a permission';
  return `the credential lacks ${what} in sandbox ${sandbox} (AEP ${err.code ?? '403'}: ${err.detail}). Add it to the product profile of the API credential `
    + 'in the Adobe Admin Console: sources need View Sources + Manage Sources (Enterprise Source read/write), destinations need '
    + 'View Destinations + Manage Destinations, dataflows to destinations also Activate Destinations, View Profiles, View Segments.';
}

type Add = (id: string, status: CheckStatus, message: string) => void;

/**
 * A failed Flow Service read as a finding: a gateway refusal stops the run (exit 3), a missing
 * permission is a problem naming it, and a host that stopped answering is `cannot-decide` naming
 * the host (what was to be read is unknown, not wrong).
 */
export function flowServiceFailure(err: unknown, add: Add, id: string, what: string, sandbox: string, flowServiceUrl: string): void {
  const aep = aepErrorOf(err);
  if (aep && isGatewayRejection(aep)) throw new CannotAuthenticate(gatewayMessage(aep, sandbox));
  const code = networkCode(err);
  if (code) {
    add(id, 'cannot-decide', `could not ${what}: Flow Service at ${hostOf(flowServiceUrl)} did not answer: ${networkMeaning(code)} (${code}); ${reachAdvice('--flow-service-url')}`);
    return;
  }
  const meaning = aep && permissionMeaning(aep, sandbox);
  add(id, 'problem', `could not ${what}: ${meaning ?? errorMessage(err)}`);
}
