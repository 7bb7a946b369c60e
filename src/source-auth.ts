import { Duration, Token } from 'aws-cdk-lib';
import { AccessKeyLifecycleOptions } from './access-key-lifecycle';
import { AepIds, STS_SESSION_DURATION } from './private/contract';
import { resolveKeyLifecycle } from './private/key-watch';
import { IAM_ROLE_ARN, invalid, isConcrete, validateEndpointUrl, validateSerial } from './private/validation';

const STS_MAX_SECONDS = STS_SESSION_DURATION.MAX_SECONDS;
/** Shortest refresh interval: more often only adds AEP API calls, not safety. */
const MIN_REFRESH_SECONDS = 15 * 60;
/**
 * Shortest session: two refreshes must fit into one lifetime. Above STS's own minimum (15
 * minutes), so the one lower bound users meet is this one.
 */
const MIN_SESSION_SECONDS = Math.max(2 * MIN_REFRESH_SECONDS, STS_SESSION_DURATION.MIN_SECONDS);
/** The STS default lifetime; three refreshes per token with the default interval. */
const DEFAULT_SESSION_DURATION = Duration.hours(12);

/** How AEP authenticates to the source bucket. */
export enum S3SourceAuthMode {
  /** An IAM user's access key (AEP auth spec `Access Key`), optionally as STS session credentials. */
  ACCESS_KEY = 'ACCESS_KEY',
  /** A bucket policy for Adobe's IAM role (AEP auth spec `IAMRole Based`, Experience Platform on AWS). */
  IAM_ROLE = 'IAM_ROLE',
}

/** Temporary credentials for {@link S3SourceAuth.accessKey}. */
export interface S3SourceSessionTokenOptions {
  /**
   * Lifetime of each set of temporary credentials (STS GetSessionToken `DurationSeconds`).
   * Between 30 minutes and 36 hours (STS allows 15 minutes, but two refreshes of at least
   * 15 minutes must fit in one lifetime).
   *
   * @default Duration.hours(12)
   */
  readonly duration?: Duration;

  /**
   * How often new credentials are pushed to AEP. A whole number of minutes, at least 15 minutes
   * and at most half of `duration`, so a failed refresh still leaves a scheduled retry before
   * the credentials AEP holds expire.
   *
   * @default - a third of `duration` (whole minutes), at least 15 minutes
   */
  readonly refreshEvery?: Duration;
}

/** Options of {@link S3SourceAuth.accessKey}. */
export interface S3SourceAccessKeyOptions {
  /**
   * Give AEP temporary STS credentials (access key id, secret and `s3SessionToken`) instead of
   * the long-term key, and refresh them on a schedule. The long-term key never leaves AWS.
   *
   * @default - AEP receives the long-term access key
   */
  readonly sessionToken?: S3SourceSessionTokenOptions;

  /**
   * The S3 endpoint AEP calls (`serviceUrl`), needed for region-specific buckets.
   *
   * @default - `https://s3.<bucket region>.amazonaws.com` (`.amazonaws.com.cn` in China),
   *            from the bucket's region or, if that is unknown at synth time, the stack's
   */
  readonly serviceUrl?: string;

  /**
   * Bump to rotate the long-term access key. CloudFormation creates the new key, the
   * connection update pushes it (or credentials derived from it) to AEP, and the old key is
   * deleted only in the cleanup phase.
   *
   * @default - no serial (the first key)
   */
  readonly serial?: number;

  /**
   * An alarm before the long-term key passes an age you set, and/or a scheduled rotation of it
   * (with `sessionToken`, AEP then gets session credentials made from the new key). See
   * {@link AccessKeyLifecycleOptions}.
   *
   * @default - no age alarm, no scheduled rotation
   */
  readonly keyLifecycle?: AccessKeyLifecycleOptions;
}

/** Options of {@link S3SourceAuth.iamRole}. */
export interface S3SourceIamRoleOptions {
  /**
   * ARN of the IAM role Experience Platform on AWS reads the bucket with
   * (`configParams.IAMRole` of `GET /connectionSpecs/ecadc60c-…/configs?authType=IamBasedAuthentication`).
   *
   * @default - read from AEP at deploy time by a custom resource
   */
  readonly adobeRoleArn?: string;
}

/**
 * How AEP authenticates to the source bucket. Every variant is read-only and limited to the
 * source folder.
 */
export class S3SourceAuth {
  /**
   * An IAM user created for AEP with one access key (AEP auth spec `Access Key`), for
   * Experience Platform on Azure. The user may only `s3:GetObject` in the folder, list the
   * folder, read the bucket's location and decrypt with the bucket's KMS key. The key lives in
   * Secrets Manager and never appears in the template.
   */
  public static accessKey(options: S3SourceAccessKeyOptions = {}): S3SourceAuth {
    validateSerial('auth.serial', options.serial);
    validateEndpointUrl('auth.serviceUrl', options.serviceUrl);
    const session = options.sessionToken ? resolveSessionToken(options.sessionToken) : undefined;
    resolveKeyLifecycle('auth.keyLifecycle', options.keyLifecycle);
    return new S3SourceAuth(S3SourceAuthMode.ACCESS_KEY, {
      serial: options.serial,
      keyLifecycle: options.keyLifecycle,
      serviceUrl: options.serviceUrl,
      sessionTokenDuration: session?.duration,
      refreshEvery: session?.refreshEvery,
    });
  }

  /**
   * A bucket policy letting Adobe's IAM role read the folder (AEP auth spec `IAMRole Based`),
   * for Experience Platform on AWS. No credential is created and none leaves AWS.
   */
  public static iamRole(options: S3SourceIamRoleOptions = {}): S3SourceAuth {
    if (isConcrete(options.adobeRoleArn) && !IAM_ROLE_ARN.test(options.adobeRoleArn)) {
      invalid('auth.adobeRoleArn', options.adobeRoleArn,
        `must be an IAM role ARN (arn:<partition>:iam::<12-digit account>:role/<name>), the configParams.IAMRole AEP returns for connection spec ${AepIds.S3_SOURCE_CONNECTION_SPEC}`);
    }
    return new S3SourceAuth(S3SourceAuthMode.IAM_ROLE, { adobeRoleArn: options.adobeRoleArn });
  }

  /** Which variant this is. */
  public readonly mode: S3SourceAuthMode;
  /** Lifetime of the temporary credentials, when AEP gets session credentials. */
  public readonly sessionTokenDuration?: Duration;
  /** Refresh interval of the temporary credentials, when AEP gets session credentials. */
  public readonly refreshEvery?: Duration;
  /** The `serviceUrl` override, if any. */
  public readonly serviceUrl?: string;
  /** The access key serial, if any. */
  public readonly serial?: number;
  /** The given Adobe role ARN, if any (otherwise it is looked up). */
  public readonly adobeRoleArn?: string;
  /** The key's age alarm and scheduled rotation settings, if any. */
  public readonly keyLifecycle?: AccessKeyLifecycleOptions;

  private constructor(mode: S3SourceAuthMode, settings: {
    serial?: number;
    serviceUrl?: string;
    sessionTokenDuration?: Duration;
    refreshEvery?: Duration;
    adobeRoleArn?: string;
    keyLifecycle?: AccessKeyLifecycleOptions;
  }) {
    this.mode = mode;
    this.serial = settings.serial;
    this.serviceUrl = settings.serviceUrl;
    this.sessionTokenDuration = settings.sessionTokenDuration;
    this.refreshEvery = settings.refreshEvery;
    this.adobeRoleArn = settings.adobeRoleArn;
    this.keyLifecycle = settings.keyLifecycle;
  }
}

/** Seconds of a literal duration, or a validation error naming the property. */
function literalSeconds(property: string, duration: Duration): number {
  const seconds = duration.toSeconds({ integral: false });
  if (Token.isUnresolved(seconds)) {
    // duration.toString() would show the number token's encoding (-1.88e+289), not a value.
    invalid(property, '<deploy-time value>', 'must be a literal duration: the refresh schedule is derived from it at synth time');
  }
  return seconds;
}

/**
 * Validates the session-token settings and fills in the refresh interval. The rules exist so
 * that AEP never holds expired credentials after a single failed refresh.
 */
function resolveSessionToken(options: S3SourceSessionTokenOptions): { duration: Duration; refreshEvery: Duration } {
  const duration = options.duration ?? DEFAULT_SESSION_DURATION;
  const seconds = literalSeconds('auth.sessionToken.duration', duration);
  if (!Number.isInteger(seconds) || seconds < MIN_SESSION_SECONDS || seconds > STS_MAX_SECONDS) {
    invalid('auth.sessionToken.duration', `${seconds} seconds`,
      `must be a whole number of seconds from ${MIN_SESSION_SECONDS} (30 minutes) to ${STS_MAX_SECONDS} (36 hours): `
      + 'STS caps a session at 36 hours, and two refreshes, at most one per 15 minutes, must fit into one lifetime');
  }

  const refreshEvery = options.refreshEvery
    ?? Duration.minutes(Math.max(MIN_REFRESH_SECONDS / 60, Math.floor(seconds / 3 / 60)));
  const refresh = literalSeconds('auth.sessionToken.refreshEvery', refreshEvery);
  if (!Number.isInteger(refresh / 60)) {
    invalid('auth.sessionToken.refreshEvery', `${refresh} seconds`, 'must be a whole number of minutes (EventBridge rate schedule)');
  }
  if (refresh < MIN_REFRESH_SECONDS) {
    invalid('auth.sessionToken.refreshEvery', `${refresh} seconds`, `must be at least ${MIN_REFRESH_SECONDS} seconds (15 minutes)`);
  }
  if (refresh > seconds / 2) {
    invalid('auth.sessionToken.refreshEvery', `${refresh} seconds`,
      `must be at most half of auth.sessionToken.duration (${seconds / 2} seconds), so that one failed refresh still leaves a scheduled retry before the credentials expire`);
  }
  return { duration, refreshEvery };
}
