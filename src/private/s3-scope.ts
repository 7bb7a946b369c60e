import { Aws, Fn, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import { Construct } from 'constructs';
import { NagSuppression, suppressNag } from './nag';
import { invalid, isConcrete } from './validation';

/**
 * Folder paths and the IAM scope they imply, shared by the destination and the source.
 *
 * AEP takes a folder path; IAM needs an object-ARN pattern and an `s3:prefix` condition. Both are
 * derived here once so the two constructs can never disagree on what "the folder" means.
 */

const MACRO = /%SEGMENT_(NAME|ID)%/;
const DEST_STATIC_CHARS = /^[0-9a-zA-Z/!\-_.*'()]*$/;
// AEP's own regex for destination paths (the target spec's `path` pattern); checked in addition
// to our macro rule.
const DEST_PATH = /^[0-9a-zA-Z/!\-_.*'()]*((%SEGMENT_(NAME|ID)%)?\/?)+$/;
const DEST_MACRO_TAILS = ['', '%SEGMENT_NAME%', '%SEGMENT_ID%', '%SEGMENT_NAME%/%SEGMENT_ID%'];

/** The IAM view of a folder: where objects may be touched and which list prefixes are allowed. */
export interface FolderScope {
  /**
   * Key prefix before the first macro, without a leading slash (`''` = whole bucket). A
   * CloudFormation expression when the folder path is a token.
   */
  readonly prefix: string;
  /** The prefix without its trailing `/` (for the `s3:prefix` list condition). */
  readonly bare: string;
}

/** Any `%NAME%` macro, supported or not (`%DESTINATION%`, `%DATETIME(…)%` …). */
const ANY_MACRO = /%[A-Za-z_]+(\([^)%]*\))?%/g;
/** Folder macros AEP supports for S3 destinations, for messages. */
const SUPPORTED_MACROS = '%SEGMENT_NAME%, %SEGMENT_ID% or %SEGMENT_NAME%/%SEGMENT_ID%';

/**
 * Validates a destination folder path: AEP's character set, and the `%SEGMENT_NAME%` /
 * `%SEGMENT_ID%` macros only at the end (`…/%SEGMENT_NAME%`, `…/%SEGMENT_ID%` or
 * `…/%SEGMENT_NAME%/%SEGMENT_ID%`, the folder macros AEP documents for S3).
 */
export function validateDestinationFolderPath(property: string, value: string | undefined): void {
  if (!isConcrete(value)) return;
  if (value.length > 1024) invalid(property, value, 'must be at most 1024 characters long');
  // An unsupported macro first: a user who wrote %DESTINATION% needs the list of macros, not
  // the list of characters.
  const unsupported = (value.match(ANY_MACRO) ?? []).filter((m) => !MACRO.test(m));
  if (unsupported.length > 0) {
    invalid(property, value, `${unsupported[0]} is not a folder macro: AEP supports only ${SUPPORTED_MACROS}, at the end of the path `
      + '(file-name macros such as %DESTINATION% or %DATETIME(…)% belong to the dataflow\'s file name template)');
  }
  const first = value.search(MACRO);
  const staticPart = first < 0 ? value : value.substring(0, first);
  const tail = (first < 0 ? '' : value.substring(first)).replace(/\/$/, '');
  if (!DEST_STATIC_CHARS.test(staticPart)) {
    invalid(property, value, `may only contain letters, digits and / ! - _ . * ' ( ), followed by an optional ${SUPPORTED_MACROS}`);
  }
  if (!DEST_MACRO_TAILS.includes(tail)) {
    invalid(property, value, `macros are allowed only at the end: ${SUPPORTED_MACROS}`);
  }
  if (first > 0 && !staticPart.endsWith('/')) {
    invalid(property, value, 'a macro must start a path segment (put a "/" before it)');
  }
  if (value.includes('//')) invalid(property, value, 'must not contain empty segments ("//")');
  if (!DEST_PATH.test(value)) invalid(property, value, "does not match AEP's folder path pattern");
}

/** Validates a source folder path: S3 key characters without macros or empty segments. */
export function validateSourceFolderPath(property: string, value: string | undefined): void {
  if (!isConcrete(value)) return;
  if (value.length > 1024) invalid(property, value, 'must be at most 1024 characters long');
  if (!/^[0-9a-zA-Z/!\-_.*'() ]*$/.test(value)) {
    invalid(property, value, "may only contain letters, digits, spaces and / ! - _ . * ' ( )");
  }
  if (value.includes('//')) invalid(property, value, 'must not contain empty segments ("//")');
  if (value.includes('*')) invalid(property, value, 'must not contain wildcards: IAM scoping needs a literal folder');
  // Whether AEP strips a leading "/" or reads keys starting with "/" is undocumented, and the
  // IAM scope must name exactly the keys AEP reads (same rule as the destination).
  if (value.startsWith('/')) invalid(property, value, 'must not start with "/" (write "exports/…", not "/exports/…")');
}

/**
 * Checks that a source dataflow's `path` (AEP's `params.path`: `/<bucket>/<key path>`, a file, a
 * folder or a wildcard pattern) lies inside the bucket and folder the source grants AEP: anything
 * else deploys, then fails at every run with access denied. Skipped when the path, the bucket name
 * or the folder is known only at deploy time (each part separately).
 */
export function validateSourceDataflowPath(property: string, path: string, bucketName: string | undefined, folderPath: string): void {
  if (!isConcrete(path)) return;
  const [bucket, ...keyParts] = path.replace(/^\/+/, '').split('/');
  const keyPath = keyParts.join('/');
  const granted = isConcrete(folderPath) ? folderScope(folderPath) : undefined;
  const where = `s3://${bucketName ?? '<bucket>'}/${granted ? granted.prefix : '<folder>'}`;
  const fix = (bucketName && granted)
    ? `write /${bucketName}/${granted.prefix}… (a file, folder or wildcard under the folder) or widen the source's folderPath`
    : 'point it into the source\'s bucket and folder';
  if (isConcrete(bucketName) && bucket !== bucketName) {
    invalid(property, path, `names bucket ${JSON.stringify(bucket)}, but the source grants AEP read access to ${where} only (AEP's path is /<bucket>/<key path>): ${fix}`);
  }
  if (!granted || granted.prefix === '') return;
  if (keyPath !== granted.bare && !keyPath.startsWith(granted.prefix)) {
    invalid(property, path, `is outside the folder the source grants AEP, ${where} (folderPath ${JSON.stringify(folderPath)}): AEP would be denied reading it; ${fix}`);
  }
}

/**
 * The folder's static prefix: leading slashes dropped, everything from the first macro cut,
 * and a trailing slash added to a plain folder so `a/b` does not also grant `a/bc/…`.
 *
 * A token folder path (a `CfnParameter`, an SSM parameter, …) gets the same prefix computed by
 * CloudFormation ({@link deployTimeFolderScope}).
 */
export function folderScope(folderPath: string): FolderScope {
  if (!isConcrete(folderPath)) return deployTimeFolderScope(folderPath);
  const first = folderPath.search(MACRO);
  let prefix = (first < 0 ? folderPath : folderPath.substring(0, first)).replace(/^\/+/, '');
  if (prefix !== '' && !prefix.endsWith('/') && first < 0) prefix = `${prefix}/`;
  return { prefix, bare: prefix.replace(/\/$/, '') };
}

/** Delimits the value inside the expressions below; no valid folder path contains it. */
const SENTINEL = '#';

/**
 * {@link folderScope} as a CloudFormation expression, for folder paths known only at deploy time:
 *
 * 1. `s` = the text before the first `%` (`Fn::Select 0` of `Fn::Split "%"`): the static part
 *    (a macro must start a segment, so it ends with `/` when a macro follows);
 * 2. `x` = `#` + `s` + `/#`; `#/#` (an empty static part: a macro-only path, or `''`) becomes `''`,
 *    a doubled `//#` at the end becomes `/#`, and the `#` go: `a/b` and `a/b/` give `a/b/`.
 *
 * The bare prefix is `prefix` + `#` with `/#` turned into `#`, then `#` removed. Values the
 * synth-time rules reject keep their odd characters (a leading `/`, an inner `//`), so their scope
 * names exactly the keys they spell and nothing else: they fail closed. One difference remains: a
 * path that resolves to a macro-only path or `''` allows listing the bucket only with a prefix
 * (the `s3:prefix` condition cannot be dropped at deploy time).
 */
function deployTimeFolderScope(folderPath: string): FolderScope {
  const replaceAll = (text: string, from: string, to: string) => Fn.join(to, Fn.split(from, text));
  const staticPart = Fn.select(0, Fn.split('%', folderPath));
  const delimited = Fn.join('', [SENTINEL, staticPart, `/${SENTINEL}`]);
  const prefix = replaceAll(replaceAll(replaceAll(delimited, `${SENTINEL}/${SENTINEL}`, ''), `//${SENTINEL}`, `/${SENTINEL}`), SENTINEL, '');
  const bare = replaceAll(replaceAll(Fn.join('', [prefix, SENTINEL]), `/${SENTINEL}`, SENTINEL), SENTINEL, '');
  return { prefix, bare };
}

/** Object ARN pattern for the folder (`arn:…:bucket/prefix*`). */
export function objectArnPattern(bucket: s3.IBucket, scope: FolderScope): string {
  return bucket.arnForObjects(`${scope.prefix}*`);
}

/** The `s3:prefix` values ListBucket is limited to (`undefined` = whole bucket, no condition). */
export function listPrefixCondition(scope: FolderScope): Record<string, unknown> | undefined {
  if (scope.prefix === '') return undefined;
  if (Token.isUnresolved(scope.prefix)) {
    return { StringLike: { 's3:prefix': [scope.bare, scope.prefix, `${scope.prefix}*`] } };
  }
  const values = Array.from(new Set([scope.bare, scope.prefix, `${scope.prefix}*`])).filter((v) => v !== '');
  return { StringLike: { 's3:prefix': values } };
}

/** How much of the bucket a principal gets. */
export interface S3GrantSpec {
  readonly bucket: s3.IBucket;
  readonly scope: FolderScope;
  /** Object-level actions on `bucket/prefix*`. */
  readonly objectActions: string[];
  /** Bucket-level actions besides `s3:ListBucket` (e.g. `s3:GetBucketLocation`). */
  readonly bucketActions: string[];
  /** KMS key of an SSE-KMS bucket, if any. */
  readonly key?: kms.IKey;
  /** KMS actions needed on that key. */
  readonly keyActions: string[];
}

/**
 * Least-privilege statements for a folder: object actions on the folder, `s3:ListBucket` limited
 * by `s3:prefix`, bucket-level actions on the bucket, and KMS actions on the bucket's key.
 */
export function folderStatements(spec: S3GrantSpec, principals?: iam.IPrincipal[]): iam.PolicyStatement[] {
  const statements: iam.PolicyStatement[] = [];
  const base = principals ? { principals } : {};
  statements.push(new iam.PolicyStatement({
    ...base,
    sid: 'AepObjects',
    actions: spec.objectActions,
    resources: [objectArnPattern(spec.bucket, spec.scope)],
  }));
  const condition = listPrefixCondition(spec.scope);
  statements.push(new iam.PolicyStatement({
    ...base,
    sid: 'AepListFolder',
    actions: ['s3:ListBucket'],
    resources: [spec.bucket.bucketArn],
    ...(condition ? { conditions: condition } : {}),
  }));
  if (spec.bucketActions.length > 0) {
    statements.push(new iam.PolicyStatement({
      ...base,
      sid: 'AepBucket',
      actions: spec.bucketActions,
      resources: [spec.bucket.bucketArn],
    }));
  }
  if (spec.key && spec.keyActions.length > 0 && !principals) {
    statements.push(new iam.PolicyStatement({
      sid: 'AepBucketKey',
      actions: spec.keyActions,
      resources: [spec.key.keyArn],
    }));
  }
  return statements;
}

/**
 * Extra rules for a destination folder that also becomes IAM scope (on top of
 * {@link validateDestinationFolderPath}, which follows AEP's own pattern):
 * - not empty: AEP requires a path, and a bucket-wide grant should be spelled out as a macro-only
 *   path such as `%SEGMENT_NAME%`, not happen by omission;
 * - no leading `/`: whether AEP strips it or writes keys starting with `/` is undocumented, and
 *   the IAM scope must name exactly the keys AEP writes;
 * - no `*`: AEP treats it as a literal key character, IAM as a wildcard that would widen the grant.
 */
export function validateIamScopedDestinationFolder(property: string, value: string | undefined): void {
  if (!isConcrete(value)) return;
  if (value === '') invalid(property, value, 'must not be empty (AEP requires a folder path)');
  if (value.startsWith('/')) invalid(property, value, 'must not start with "/" (write "exports/…", not "/exports/…")');
  if (value.includes('*')) invalid(property, value, 'must not contain "*": IAM would read it as a wildcard and widen the grant');
}

/** True when the folder path uses `%SEGMENT_NAME%` / `%SEGMENT_ID%` (audience exports only). */
export function hasSegmentMacro(folderPath: string): boolean {
  return MACRO.test(folderPath);
}

/**
 * The bucket's regional S3 host, `s3.<region>.<domain suffix>`: the `serviceUrl` the S3 source
 * needs for region-specific buckets (seed 004), and the `kms:ViaService` value of S3 in that
 * region. Concrete when the bucket's region is known at synth time; otherwise the region and URL
 * suffix of the stack it is deployed with.
 */
export function regionalS3Host(bucket: s3.IBucket): string {
  const region = bucket.env.region;
  if (Token.isUnresolved(region)) return `s3.${Aws.REGION}.${Aws.URL_SUFFIX}`;
  return `s3.${region}.${RegionInfo.get(region).domainSuffix ?? 'amazonaws.com'}`;
}

/**
 * Limits a KMS statement to requests S3 makes for the principal in the bucket's region
 * (`kms:ViaService`): the principal can write and read SSE-KMS objects, but cannot call KMS with
 * the key directly. Statements without KMS actions are returned unchanged.
 */
export function kmsViaS3(statement: iam.PolicyStatement, bucket: s3.IBucket): iam.PolicyStatement {
  if (!statement.actions.some((a) => a.startsWith('kms:'))) return statement;
  return statement.copy({ conditions: { ...statement.conditions, StringEquals: { 'kms:ViaService': regionalS3Host(bucket) } } });
}

/** Name of the inline folder policy on a principal the library creates. */
export const FOLDER_POLICY_NAME = 'AepFolderAccess';

/** The folder-scoped statements as one document; KMS actions only work through S3 (SSE-KMS). */
export function folderPolicyDocument(spec: S3GrantSpec): iam.PolicyDocument {
  return new iam.PolicyDocument({ statements: folderStatements(spec).map((s) => kmsViaS3(s, spec.bucket)) });
}

/** Why the folder grant's one wildcard is not a broader grant (cdk-nag IAM5). */
export function folderWildcardSuppression(folderKind: string): NagSuppression {
  return {
    id: 'AwsSolutions-IAM5',
    reason: `Object actions are limited to the AEP ${folderKind} folder (arn:...:bucket/<folder prefix>*): the trailing wildcard is the folder scope, not a broader grant.`,
  };
}

/**
 * Puts the folder-scoped statements into the `Policies` of an IAM user the library creates: one
 * resource less than a separate `AWS::IAM::Policy`, and the same ordering guarantee, since the
 * user (and with it the policy) exists before its access key, which the connection references.
 */
export function inlineFolderPolicy(user: iam.User, spec: S3GrantSpec, folderKind: string): void {
  const cfn = user.node.defaultChild as iam.CfnUser;
  cfn.policies = [{ policyName: FOLDER_POLICY_NAME, policyDocument: folderPolicyDocument(spec) }];
  suppressNag(user, [folderWildcardSuppression(folderKind)]);
}

/**
 * Attaches folder-scoped statements as one dedicated policy, for principals the library does not
 * create (an imported user). A dedicated `iam.Policy` (not the principal's default policy) is
 * something a connection can depend on, so AEP never sees a credential before its permissions
 * exist.
 */
export function folderPolicy(
  scope: Construct, id: string, spec: S3GrantSpec, principal: { users?: iam.IUser[]; roles?: iam.IRole[] }, folderKind: string,
): iam.Policy {
  const policy = new iam.Policy(scope, id, { document: folderPolicyDocument(spec), ...principal });
  suppressNag(policy, [folderWildcardSuppression(folderKind)]);
  return policy;
}
