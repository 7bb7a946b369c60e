/**
 * The endpoints an event may name. Anyone allowed to invoke the function can send it any event,
 * so the IMS and Flow Service URLs in an event are only requests: the handler calls them only
 * when the function's environment, written at synth from the stack's sandboxes, lists that pair.
 * Otherwise the client secret would go to whichever server the event names.
 */
import { optionalString, type RawProps } from './props';
import { CommonProps, decodeAllowedEndpoints, type EndpointPair, HandlerEnvironment, REFRESH_PINNED_KEYS } from '../private/contract';

/** Why an event was refused: its endpoints are not among those the stack was synthesized with. */
export class EndpointNotAllowedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EndpointNotAllowedError';
  }
}

/**
 * Throws {@link EndpointNotAllowedError} unless the event's `[flowServiceUrl, imsUrl]` is one of
 * the pairs in the function's environment. Call before reading any secret. An event naming no
 * endpoint at all (a Delete of a type this handler never made) calls nobody and passes.
 */
export function assertAllowedEndpoints(props: RawProps | undefined, env: Record<string, string | undefined> = process.env): void {
  const flowServiceUrl = optionalString(props ?? {}, CommonProps.FLOW_SERVICE_URL);
  const imsUrl = optionalString(props ?? {}, CommonProps.IMS_URL);
  if (flowServiceUrl === undefined && imsUrl === undefined) return;
  const raw = env[HandlerEnvironment.ALLOWED_ENDPOINTS];
  const allowed = decodeAllowedEndpoints(raw);
  const rule = 'the handler calls only the endpoints of the AepSandbox objects its stack was synthesized with '
    + `(environment variable ${HandlerEnvironment.ALLOWED_ENDPOINTS}); an event cannot add others`;
  if (allowed === undefined) {
    throw new EndpointNotAllowedError(`Refusing the event: ${HandlerEnvironment.ALLOWED_ENDPOINTS} is ${raw === undefined ? 'not set' : 'not a JSON list of [flowServiceUrl, imsUrl] pairs'} in the function's environment, so no endpoint is allowed; ${rule}. Redeploy the stack with this library version.`);
  }
  if (allowed.some(([flow, ims]) => flow === flowServiceUrl && ims === imsUrl)) return;
  throw new EndpointNotAllowedError(`Refusing the event: ${describeRefusal(allowed, flowServiceUrl, imsUrl)}; ${rule}. `
    + `Allowed: ${allowed.map(([flow, ims]) => `${flow} with ${ims}`).join('; ') || 'none'}.`);
}

function describeRefusal(allowed: EndpointPair[], flowServiceUrl?: string, imsUrl?: string): string {
  const show = (v?: string) => (v === undefined ? 'none' : `'${v}'`);
  const imsKnown = allowed.some(([, ims]) => ims === imsUrl);
  const flowKnown = allowed.some(([flow]) => flow === flowServiceUrl);
  if (!imsKnown && !flowKnown) return `IMS URL ${show(imsUrl)} and Flow Service URL ${show(flowServiceUrl)} are not allowed`;
  if (!imsKnown) return `IMS URL ${show(imsUrl)} is not allowed`;
  if (!flowKnown) return `Flow Service URL ${show(flowServiceUrl)} is not allowed`;
  return `Flow Service URL ${show(flowServiceUrl)} with IMS URL ${show(imsUrl)} is not an allowed pair`;
}

/**
 * Throws unless a refresh event names the connection, key secret and sandbox the function was
 * synthesized for (`CDK_AEP_S3_REFRESH_TARGET`). Whoever can invoke the function could otherwise
 * have it put this source's fresh credentials on any connection the AEP credential can PATCH.
 * Call before reading any secret.
 */
export function assertPinnedRefreshTarget(event: RawProps, env: Record<string, string | undefined> = process.env): void {
  const raw = env[HandlerEnvironment.REFRESH_TARGET];
  let pinned: Record<string, unknown> | undefined;
  try {
    pinned = raw === undefined ? undefined : JSON.parse(raw);
  } catch {
    pinned = undefined;
  }
  if (!pinned || typeof pinned !== 'object') {
    throw new EndpointNotAllowedError(`Refusing the refresh event: ${HandlerEnvironment.REFRESH_TARGET} is ${raw === undefined ? 'not set' : 'not a JSON object'} `
      + 'in the function\'s environment, so it has no connection to refresh. Redeploy the stack with this library version.');
  }
  const differing = REFRESH_PINNED_KEYS.filter((key) => optionalString(event, key) !== pinned![key]);
  if (differing.length) {
    throw new EndpointNotAllowedError(`Refusing the refresh event: its ${differing.map((k) => `'${k}'`).join(', ')} differ from the connection this function `
      + `was synthesized for (environment variable ${HandlerEnvironment.REFRESH_TARGET}); a refresh function only ever refreshes its own source connection.`);
  }
}

/**
 * The key watch's target from the function's environment (`CDK_AEP_S3_KEY_WATCH_TARGET`, written
 * at synth): the user, secret, connection and sandbox it may touch. Nothing comes from the event.
 */
export function pinnedKeyWatchTarget(env: Record<string, string | undefined> = process.env): RawProps {
  const raw = env[HandlerEnvironment.KEY_WATCH_TARGET];
  let pinned: unknown;
  try {
    pinned = raw === undefined ? undefined : JSON.parse(raw);
  } catch {
    pinned = undefined;
  }
  if (!pinned || typeof pinned !== 'object' || Array.isArray(pinned)) {
    throw new EndpointNotAllowedError(`Refusing to run: ${HandlerEnvironment.KEY_WATCH_TARGET} is ${raw === undefined ? 'not set' : 'not a JSON object'} `
      + 'in the function\'s environment, so it has no key to watch. Redeploy the stack with this library version.');
  }
  return pinned as RawProps;
}
