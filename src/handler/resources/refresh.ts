import { awsKeyOf, S3Params, sessionDuration, temporaryParams } from './auth-params';
import { type FlowRef, patchItem } from './flow-resource';
import { RefreshEventKeys, RefreshMetric } from '../../private/contract';
import { AepClient } from '../aep/aep-client';
import { readSecretParams } from '../aws/secrets';
import type { Invocation } from '../plumbing/config';
import { log, writeLine } from '../plumbing/log';
import { type RawProps, requireString, stringMap } from '../plumbing/props';

/**
 * Replaces the temporary credentials of an S3 source connection before they expire
 * (API-NOTES §6.3): long-term key → STS GetSessionToken → PATCH the three params with If-Match.
 * The access key id and secret change with every session, so all three are replaced together.
 * Emits a success/failure metric either way and rethrows so Lambda's Errors metric counts too.
 */
export async function refreshSessionToken(event: RawProps, invocation: Invocation): Promise<FlowRef> {
  const name = typeof event[RefreshEventKeys.NAME] === 'string' ? event[RefreshEventKeys.NAME] as string : 'unknown';
  try {
    const connectionId = requireString(event, RefreshEventKeys.CONNECTION_ID);
    const duration = sessionDuration(event, RefreshEventKeys.SESSION_TOKEN_DURATION);
    if (duration === undefined) throw new Error(`Refresh event lacks '${RefreshEventKeys.SESSION_TOKEN_DURATION}'`);
    const longTerm = await readSecretParams(
      requireString(event, RefreshEventKeys.AUTH_SECRET_ARN),
      stringMap(event, RefreshEventKeys.AUTH_SECRET_FIELDS),
    );
    const client = await AepClient.fromProps(event, invocation);
    const temp = await temporaryParams(awsKeyOf(longTerm), duration);
    const ref = await patchItem(client, '/connections', connectionId, [S3Params.ACCESS_KEY, S3Params.SECRET_KEY, S3Params.SESSION_TOKEN]
      .map((param) => ({ op: 'replace', path: `/auth/params/${param}`, value: temp[param] })));
    log('info', 'session token refreshed', { connectionId, name, etag: ref.etag });
    emitMetric(name, 1);
    return ref;
  } catch (err) {
    // The entry point logs the (redacted) failure once; here only the metric.
    emitMetric(name, 0);
    throw err;
  }
}

/**
 * One CloudWatch Embedded Metric Format line: CloudWatch turns it into a metric, no API call
 * needed. Also written by a Create/Update that registers fresh session credentials: the alarm
 * fires on the ABSENCE of success, and a first deployment is a success.
 */
export function emitMetric(connectionName: string, value: 0 | 1): void {
  writeLine({
    _aws: {
      Timestamp: Date.now(),
      CloudWatchMetrics: [{
        Namespace: RefreshMetric.NAMESPACE,
        Dimensions: [[RefreshMetric.DIMENSION]],
        Metrics: [{ Name: RefreshMetric.NAME, Unit: 'Count' }],
      }],
    },
    [RefreshMetric.DIMENSION]: connectionName,
    [RefreshMetric.NAME]: value,
  });
}
