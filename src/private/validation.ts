import { Token } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { IConstruct } from 'constructs';
import { IMS_ORG_ID } from './contract';
import { ValidationError } from './errors';

/**
 * Synth-time input checks shared by every construct.
 *
 * Every error names the property, the offending value and the rule, so a user reading a failed
 * `cdk synth` knows exactly what to change. Unresolved tokens are skipped: their value is only
 * known at deploy time.
 */

/**
 * Throws the library's standard validation error. It names the construct being built (or
 * `scope`, for methods of a construct) and its stack starts at the caller's line (errors.ts).
 */
export function invalid(property: string, value: unknown, rule: string, scope?: IConstruct): never {
  const error = new ValidationError(`Invalid ${property} ${describeValue(value)}: ${rule}`, scope);
  throw error; // Node prints this line above the stack: the message and path below say what to change.
}

/**
 * A value as an error message shows it. Unresolved tokens become `<deploy-time value>`: their
 * `${Token[…]}` encoding means nothing to a user.
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'number' && Token.isUnresolved(value)) return '<deploy-time value>';
  const text = JSON.stringify(value) ?? String(value);
  // String tokens `${Token[…]}`, list tokens `#{Token[…]}`; numbers are checked above.
  return text.replace(/[$#]\{Token\[[^\]]*\]\}/g, '<deploy-time value>');
}

/**
 * The bucket name when known at synth time: a literal `bucketName`, or the physical name on the
 * L1 resource of a bucket created here (`new Bucket({ bucketName })`, `Bucket.fromCfnBucket`),
 * whose `bucketName` is a `Ref`.
 */
export function literalBucketName(bucket: s3.IBucket): string | undefined {
  if (isConcrete(bucket.bucketName)) return bucket.bucketName;
  const cfn = bucket.node.defaultChild;
  return cfn instanceof s3.CfnBucket && isConcrete(cfn.bucketName) ? cfn.bucketName : undefined;
}

/** True when the value is a concrete string that can be checked now. */
export function isConcrete(value: string | undefined): value is string {
  return value !== undefined && !Token.isUnresolved(value);
}

const IPV4 = /^(\d+\.)+\d+$/;
const DNS_LABELS = /^(([a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])\.)*([a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])$/;
const SOURCE_BUCKET = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/**
 * Bucket names as AEP's S3 destination connection spec accepts them (its `bucketName` pattern):
 * 3–63 characters, dot-separated labels of lowercase letters, digits and hyphens that start and
 * end alphanumeric, not an IPv4 address.
 */
export function validateDestinationBucketName(property: string, value: string | undefined): void {
  if (!isConcrete(value)) return;
  if (value.length < 3 || value.length > 63) invalid(property, value, 'must be 3 to 63 characters long');
  if (IPV4.test(value)) invalid(property, value, 'must not be formatted as an IP address');
  if (!DNS_LABELS.test(value)) {
    invalid(property, value, 'must be lowercase letters, digits, hyphens and dots, each dot-separated label starting and ending with a letter or digit');
  }
}

/**
 * Bucket names as AEP's S3 source documents them (seed 004): 3–63 characters, lowercase letters,
 * digits and hyphens only, starting and ending with a letter or digit, not an IP address.
 */
export function validateSourceBucketName(property: string, value: string | undefined): void {
  if (!isConcrete(value)) return;
  if (value.length < 3 || value.length > 63) invalid(property, value, 'must be 3 to 63 characters long');
  if (IPV4.test(value)) invalid(property, value, 'must not be formatted as an IP address');
  if (!SOURCE_BUCKET.test(value)) {
    invalid(property, value, 'must be lowercase letters, digits and hyphens only (no dots), starting and ending with a letter or digit');
  }
}

/** Access-key rotation serials: non-negative integers (a token, e.g. a CfnParameter, is skipped). */
export function validateSerial(property: string, value: number | undefined): void {
  if (value === undefined || Token.isUnresolved(value)) return;
  if (!Number.isInteger(value) || value < 0) invalid(property, value, 'must be a non-negative integer');
}

/** AEP sandbox names are lowercase (they are sent verbatim as `x-sandbox-name`). */
export function validateSandboxName(property: string, value: string | undefined): void {
  if (!isConcrete(value)) return;
  if (!/^[a-z0-9][a-z0-9-]{0,255}$/.test(value)) {
    invalid(property, value, 'must be a lowercase AEP sandbox name: lowercase letters, digits and hyphens, starting with a letter or digit');
  }
}

/**
 * An Adobe IMS organization id as the Developer Console shows it (`ABC123DEF456@AdobeOrg`): what
 * AEP sends as `sts:ExternalId` when it assumes a destination role (since August 2026).
 */
export function validateImsOrgId(property: string, value: string | undefined): void {
  if (!isConcrete(value)) return;
  if (!IMS_ORG_ID.test(value)) {
    invalid(property, value, "must be an Adobe IMS organization id: letters and digits followed by '@AdobeOrg' (e.g. 'ABC123DEF456@AdobeOrg', "
      + 'the orgId of the credential in the Adobe Developer Console)');
  }
}

/** Connection names and descriptions: non-empty, printable, bounded. */
export function validateText(property: string, value: string | undefined, maxLength: number, allowEmpty = false): void {
  if (!isConcrete(value)) return;
  if (!allowEmpty && value.trim().length === 0) invalid(property, value, 'must not be empty');
  if (value.length > maxLength) invalid(property, value, `must be at most ${maxLength} characters long`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) invalid(property, value, 'must not contain control characters');
}

/** HTTPS URL (endpoints). Plain http is allowed only for loopback hosts (local stand-ins). */
export function validateEndpointUrl(property: string, value: string | undefined): void {
  if (!isConcrete(value)) return;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return invalid(property, value, 'must be an absolute URL');
  }
  const loopback = url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    invalid(property, value, 'must use https (http is accepted only for loopback test endpoints)');
  }
  if (url.search || url.hash) invalid(property, value, 'must not contain a query string or fragment');
}

/**
 * A value of a string enum, as JavaScript users may pass it as a plain string (`'EVERY_4_HOURS'`
 * where `IncrementalFrequency.EVERY_6_HOURS` was meant): refused unless it is one of the enum's
 * values, with the members spelled out. Unset values and tokens are skipped.
 *
 * @param members the enum object itself (`IncrementalFrequency`)
 * @param enumName its public name, for the message
 */
export function validateEnum(property: string, value: unknown, members: Record<string, string>, enumName: string): void {
  if (value === undefined) return;
  if (typeof value === 'string' && Token.isUnresolved(value)) return;
  const entries = Object.entries(members);
  if (entries.some(([, v]) => v === value)) return;
  const names = entries.map(([name]) => `${enumName}.${name}`).join(', ');
  const values = entries.map(([, v]) => JSON.stringify(v)).join(', ');
  invalid(property, value, `must be a member of ${enumName}: ${names} (as plain strings from JavaScript: ${values})`);
}

/** Matches an AWS IAM role ARN (any partition); one definition for constructs and handler. */
export { IAM_ROLE_ARN } from './contract';

/**
 * Shortens a long value (a public key, a path) for an error message: the start is enough to
 * recognise it, and a multi-kilobyte key would bury the rule.
 */
export function truncateForMessage(value: string, max = 48): string {
  return value.length <= max ? value : `${value.substring(0, max)}… (${value.length} characters)`;
}
