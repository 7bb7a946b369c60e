import { Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { newSandbox } from './util';
import { AccessKeyLifecycleOptions, AepS3Destination, S3DestinationAuth } from '../../src';

/** The key-watch tests' destination: an access key with `keyLifecycle` (also under cdk-nag in test/nag.test.ts). */
export function keyWatchDestination(stack: Stack, keyLifecycle?: AccessKeyLifecycleOptions): AepS3Destination {
  return new AepS3Destination(stack, 'Exports', {
    sandbox: newSandbox(stack),
    bucket: s3.Bucket.fromBucketName(stack, 'Bucket', 'acme-aep-exports'),
    folderPath: 'aep/audiences',
    auth: S3DestinationAuth.accessKey({ keyLifecycle }),
  });
}
