import { deleteItem } from './flow-resource';
import type { AepClient } from '../../aep/aep-client';
import { AepError } from '../../aep/errors';
import type { ExportFolder } from '../../aws/s3-probe';
import { operationDeadline } from '../../plumbing/config';
import type { CustomResourceEvent } from '../../plumbing/events';
import { errorMessage, log } from '../../plumbing/log';
import { optionalString, type RawProps, requireString } from '../../plumbing/props';
import { retry, RetryExhaustedError } from '../../plumbing/retry';
import { AepIds, ConnectionProps } from '../../private/contract';

/** Time kept back from the check, in HTTP timeouts, for deleting the connection when it fails. */
const CLEANUP_RESERVE_TIMEOUTS = 2;

/** The folder a connection's reachability check covers, or undefined when the check is off. */
export function reachabilityFolder(props: RawProps): ExportFolder | undefined {
  const bucket = optionalString(props, ConnectionProps.REACHABILITY_BUCKET);
  if (!bucket) return undefined;
  return { bucket, prefix: optionalString(props, ConnectionProps.REACHABILITY_FOLDER) ?? '' };
}

/**
 * Proves AEP can read a source connection's folder: `GET /connections/{id}/explore?objectType=folder`
 * (DATAFLOWS §2.1), retried for a bounded time while IAM and bucket policies propagate. One round
 * trip on success. On failure a connection this event made is deleted first: after a failed
 * Create the Provider framework never sends a Delete, so nothing else would remove it.
 */
export async function proveSourceReachable(client: AepClient, event: CustomResourceEvent, connectionId: string): Promise<void> {
  const props = event.ResourceProperties;
  const folder = reachabilityFolder(props);
  if (!folder || requireString(props, ConnectionProps.CONNECTION_SPEC_ID) !== AepIds.S3_SOURCE_CONNECTION_SPEC) return;
  const { config } = client.invocation;
  const object = `${folder.bucket}/${folder.prefix}`.replace(/\/+$/, '');
  const path = `/connections/${encodeURIComponent(connectionId)}/explore`;
  // The check stops early enough that removing the connection it condemns still fits.
  const probeDeadline = Math.min(
    operationDeadline(client.invocation, config.keyProbeDeadlineMs),
    client.invocation.deadline - CLEANUP_RESERVE_TIMEOUTS * config.httpTimeoutMs,
  );
  const probing = client.within(probeDeadline);
  // What AEP last answered: the attempt cut short at the probe's deadline says nothing about the folder.
  let answered: unknown;
  try {
    await retry({
      operation: `GET ${path}`,
      maxAttempts: Number.POSITIVE_INFINITY,
      baseDelayMs: config.keyProbeIntervalMs,
      deadline: probeDeadline,
      // Anything but a missing/invalid token may be propagation (AEP relays S3's denial as a 4xx).
      classify: (err) => ({ retryable: !(err instanceof AepError && (err.status === 401 || err.status === 404)) }),
    }, () => probing.request('GET', path, { query: [['objectType', 'folder'], ['object', object]], retry: false }).catch((err: unknown) => {
      if (err instanceof AepError && err.status !== undefined) answered = err;
      throw err;
    }));
    log('info', 'AEP can read the source folder', { connectionId, folder: `s3://${object}` });
  } catch (err) {
    const last = answered ?? (err instanceof RetryExhaustedError ? err.lastError : err);
    const madeHere = event.RequestType === 'Create' || event.PhysicalResourceId !== connectionId;
    let outcome = '';
    if (madeHere) {
      log('warn', 'removing the connection this event made: AEP cannot read its folder', { connectionId });
      outcome = await deleteItem(client, '/connections', connectionId).then(
        () => '; the connection was removed',
        (e: unknown) => {
          log('error', 'could not remove the unreachable connection; delete it in AEP by hand', { connectionId, error: errorMessage(e) });
          return `; removing the connection failed (${errorMessage(e)}), so it may remain in AEP with its credentials: delete connection ${connectionId} in AEP by hand`;
        });
    }
    throw new Error(
      `AEP cannot list s3://${object}/ through connection ${connectionId} (${errorMessage(last)})` +
      `${outcome}. Likely causes: the bucket policy granting AEP was not attached ` +
      "(an imported bucket's policy must be added by hand, see the stack's output), the bucket is in another region than " +
      'serviceUrl says, the KMS key policy does not let AEP decrypt, or a new access key is not valid yet (redeploy). ' +
      'Fix it and redeploy, or set verifyReachability: false to skip this check.',
    );
  }
}
