// Kept external in the Lambda bundle (the runtime provides it), like the other SDK clients.
// eslint-disable-next-line import/no-extraneous-dependencies
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { AwsKey, KeyProbeOptions } from './aws-keys';
import { retry, RetryExhaustedError, type RetryVerdict } from '../plumbing/retry';

/** Where a destination writes: the bucket and the key prefix (`''` = the whole bucket). */
export interface ExportFolder {
  readonly bucket: string;
  readonly prefix: string;
}

/**
 * Proves that `key` may list the export folder (S3 ListObjectsV2, prefix = folder, one key),
 * retrying while the new key or its policy propagate. One round trip on success; it also proves
 * the key works, so it replaces the STS probe.
 */
export async function waitUntilKeyCanList(key: AwsKey, folder: ExportFolder, options: KeyProbeOptions): Promise<void> {
  const s3 = new S3Client({
    region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, sessionToken: key.sessionToken },
    // An endpoint override (offline world, VPC endpoint) has no bucket sub-domains.
    forcePathStyle: process.env.AWS_ENDPOINT_URL_S3 !== undefined || process.env.AWS_ENDPOINT_URL !== undefined,
    maxAttempts: 1,
  });
  const where = `s3://${folder.bucket}/${folder.prefix}`;
  try {
    await retry({
      operation: `s3:ListObjectsV2 ${where} (${key.accessKeyId})`,
      maxAttempts: Number.POSITIVE_INFINITY,
      baseDelayMs: options.baseDelayMs,
      deadline: options.deadline,
      classify: classifyListError,
    }, () => s3.send(new ListObjectsV2Command({ Bucket: folder.bucket, Prefix: folder.prefix, MaxKeys: 1 })));
  } catch (err) {
    const last = err instanceof RetryExhaustedError ? err.lastError : err;
    throw new Error(
      `AWS access key ${key.accessKeyId} cannot list ${where} (${errorName(last)}), so AEP could not write there either; nothing was registered. ` +
      'Likely causes: the bucket policy or an SCP denies the key, the bucket is in another account or region, or the IAM policy has not propagated yet ' +
      '(redeploy). To skip this check set verifyReachability: false.',
    );
  } finally {
    s3.destroy();
  }
}

/** Denials and unknown keys are what IAM propagation looks like at first; both are retried until the deadline. */
function classifyListError(err: unknown): RetryVerdict {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  if (e.name === 'NoSuchBucket' || e.name === 'SignatureDoesNotMatch' || e.name === 'PermanentRedirect') return { retryable: false };
  return { retryable: status === undefined || status === 403 || status === 429 || status >= 500 };
}

function errorName(err: unknown): string {
  const e = err as { name?: string; message?: string };
  return [e.name, e.message].filter(Boolean).join(': ') || String(err);
}
