import { awsKeyOf, S3Params, sessionDuration, temporaryParams } from './auth-params';
import { type FlowRef, patchItem } from './flow-resource';
import { AepClient } from '../../aep/aep-client';
import { LiveSpecMismatchError, readConnectionSpec, replaceableParams } from '../../aep/connection-specs';
import { readSecretParams } from '../../aws/secrets';
import type { Invocation } from '../../plumbing/config';
import { log, writeLine } from '../../plumbing/log';
import { type RawProps, requireString, stringMap } from '../../plumbing/props';
import { AepIds, RefreshEventKeys, RefreshMetric } from '../../private/contract';

/**
 * Replaces the temporary credentials of an S3 source connection before they expire
 * (API-NOTES §6.3): long-term key → STS GetSessionToken → PATCH with If-Match. The PATCH replaces
 * what the live `Access Key` auth spec lets be replaced: all three params (the key id and secret
 * change with every session), or only `s3SessionToken` when AEP marks the other two `readOnly`.
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
    const live = await readConnectionSpec(client, AepIds.S3_SOURCE_CONNECTION_SPEC);
    const replaced = replaceableParams(live, 'Access Key', [S3Params.ACCESS_KEY, S3Params.SECRET_KEY, S3Params.SESSION_TOKEN]);
    if (!replaced.includes(S3Params.SESSION_TOKEN)) {
      throw new LiveSpecMismatchError(
        `AEP's live 'Access Key' auth spec of ${live.id} does not let '${S3Params.SESSION_TOKEN}' be replaced, so session credentials cannot be refreshed; ` +
        'switch the source to a long-term access key (no session token duration) or to the IAM-role mode.',
      );
    }
    if (replaced.length === 1) {
      log('warn', "AEP's live auth spec lets only the session token be replaced (documented one-op PATCH); the key id and secret AEP holds stay those of the first session", { connectionId });
    }
    const temp = await temporaryParams(awsKeyOf(longTerm), duration);
    const ref = await patchItem(client, '/connections', connectionId,
      replaced.map((param) => ({ op: 'replace', path: `/auth/params/${param}`, value: temp[param] })));
    log('info', 'session token refreshed', { connectionId, name, etag: ref.etag, replaced });
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
