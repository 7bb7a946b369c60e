import { Duration } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';

/**
 * Age alarm and scheduled rotation of an access key the library makes
 * (`S3DestinationAuth.accessKey()`, `S3SourceAuth.accessKey()`).
 *
 * Either setting adds a small function (the handler bundle, its own role) that runs twice a day:
 * it reads the user's keys from IAM (`ListAccessKeys` `CreateDate`, so a key rotated outside the
 * stack is measured too) and publishes the age of the oldest active key as the metric
 * `CdkAepS3/AccessKeyAgeDays`.
 *
 * A scheduled rotation replaces the key outside CloudFormation: the template keeps describing the
 * first key (`AWS::IAM::AccessKey`) and the secret as CloudFormation first wrote it. Neither
 * changes on a later deploy unless `serial` changes, so a deploy after a rotation neither brings
 * the old key back nor touches AEP. Bumping `serial` still works: CloudFormation makes a key,
 * AEP gets it, and the next scheduled run deletes the key the last rotation made, once AEP is
 * read holding the new one.
 */
export interface AccessKeyLifecycleOptions {
  /**
   * The age a key must not pass (your key policy, e.g. 90 days). Adds an alarm that fires
   * `warnBefore` earlier, when the oldest active key of the user reaches
   * `maxKeyAge - warnBefore`. A whole number of days, at least 2.
   *
   * @default - no age alarm
   */
  readonly maxKeyAge?: Duration;

  /**
   * How long before `maxKeyAge` the age alarm fires. A whole number of days, less than
   * `maxKeyAge`.
   *
   * @default - 14 days, or half of `maxKeyAge` when that is shorter
   */
  readonly warnBefore?: Duration;

  /**
   * Rotate the key once it is this old: new key → the library's secret → PATCH of the AEP
   * connection (`If-Match`) → AEP read back holding the new key → old key deleted. Checked
   * twice a day, so a key lives at most about 12 hours longer. A whole number of days, at
   * least 1; with `maxKeyAge`, at most `maxKeyAge - warnBefore - 1 day` so that the age alarm
   * only fires when rotation stopped working. Adds an alarm on failed runs.
   *
   * @default - no scheduled rotation (bump `serial` to rotate)
   */
  readonly rotateEvery?: Duration;

  /**
   * Where the age and rotation alarms send their notifications.
   *
   * @default - the alarms have no action
   */
  readonly alarmTopic?: sns.ITopic;
}
