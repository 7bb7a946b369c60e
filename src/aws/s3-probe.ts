import { type AwsKey, type KeyProbeOptions, probeUntilAccepted } from './aws-keys';
import type { RetryVerdict } from '../plumbing/retry';

/**
 * The S3 client module, required on first use (only an access-key destination's Create needs it);
 * external to the bundle like every `@aws-sdk/*` package, so the cold start of other events
 * does not pay for it.
 */
function s3Sdk(): typeof import('@aws-sdk/client-s3') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports, import/no-extraneous-dependencies
  return require('@aws-sdk/client-s3');
}

/** Where a destination writes: the bucket and the key prefix (`''` = the whole bucket). */
export interface ExportFolder {
  readonly bucket: string;
  readonly prefix: string;
}

/**
 * Proves that `key` may list the export folder (S3 ListObjectsV2, prefix = folder, one key),
 * retrying while the new key or its policy propagate. One round trip on success (two when the
 * bucket is in another region than the Lambda: the redirect is followed); it also proves the key
 * works, so it replaces the STS probe.
 */
export async function waitUntilKeyCanList(key: AwsKey, folder: ExportFolder, options: KeyProbeOptions): Promise<void> {
  const sdk = s3Sdk();
  const s3 = new sdk.S3Client({
    region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, sessionToken: key.sessionToken },
    // An endpoint override (offline world, VPC endpoint) has no bucket sub-domains.
    forcePathStyle: process.env.AWS_ENDPOINT_URL_S3 !== undefined || process.env.AWS_ENDPOINT_URL !== undefined,
    maxAttempts: 1,
    // The export bucket may live in another region than the Lambda: S3 answers the Lambda's
    // region with 301 PermanentRedirect naming the bucket's region (x-amz-bucket-region), which
    // the SDK only follows when told to. AEP writes to the bucket wherever it is.
    followRegionRedirects: true,
  });
  const where = `s3://${folder.bucket}/${folder.prefix}`;
  const cannotList = (err: unknown) => new Error(
    `AWS access key ${key.accessKeyId} cannot list ${where} (${errorName(err)}), so AEP could not write there either; nothing was registered. ` +
    'Likely causes: the bucket policy or an SCP denies the key, the bucket is in another account, or the IAM policy has not propagated yet ' +
    '(redeploy). To skip this check set verifyReachability: false.',
  );
  try {
    await probeUntilAccepted(() => s3.send(new sdk.ListObjectsV2Command({ Bucket: folder.bucket, Prefix: folder.prefix, MaxKeys: 1 })), options, {
      what: `s3:ListObjectsV2 ${where} with ${key.accessKeyId}`,
      classify: classifyListError,
      rejected: cannotList,
      exhausted: cannotList,
    });
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
