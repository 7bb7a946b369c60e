/**
 * The one contract between the constructs (synth side) and the handler (Lambda side).
 *
 * Both sides import this module and nothing else from each other. It only holds names,
 * constants and tiny pure decoders, so the bundle pulls in no CDK code.
 *
 * Serialization rule: CloudFormation hands every scalar to the handler as a string, so the
 * construct emits strings (or nested objects of strings) and the handler decodes them with the
 * helpers below. Renaming a key here renames it on both sides at once.
 */

/** Bumped whenever a property is added, removed or changes meaning. */
export const CONTRACT_VERSION = '1';

/** CloudFormation resource types handled by the single onEvent function. */
export const ResourceTypes = {
  /** A Flow Service base connection (`/connections`). */
  CONNECTION: 'Custom::AepConnection',
  /** A Flow Service target connection (`/targetConnections`), destinations only. */
  TARGET_CONNECTION: 'Custom::AepTargetConnection',
  /** Reads AEP's IAM role from `/connectionSpecs/{id}/configs?authType=IamBasedAuthentication`. */
  IAM_ROLE_LOOKUP: 'Custom::AepIamRoleLookup',
} as const;

/** Properties every AEP custom resource carries (where and as whom to call AEP). */
export const CommonProps = {
  CONTRACT_VERSION: 'ContractVersion',
  /** Secrets Manager ARN of the JSON secret `{ clientId, clientSecret, orgId, scopes? }`. */
  CREDENTIALS_SECRET_ARN: 'AepCredentialsSecretArn',
  /** Lower-case sandbox name, sent as `x-sandbox-name`. */
  SANDBOX_NAME: 'AepSandboxName',
  /** Flow Service base URL, e.g. `https://platform.adobe.io/data/foundation/flowservice`. */
  FLOW_SERVICE_URL: 'AepFlowServiceUrl',
  /** IMS base URL, e.g. `https://ims-na1.adobelogin.com` (the handler appends `/ims/token/v3`). */
  IMS_URL: 'AepImsUrl',
} as const;

/** Properties of {@link ResourceTypes.CONNECTION}. */
export const ConnectionProps = {
  NAME: 'Name',
  DESCRIPTION: 'Description',
  CONNECTION_SPEC_ID: 'ConnectionSpecId',
  AUTH_SPEC_NAME: 'AuthSpecName',
  /** Non-secret auth params, sent inline: `{ [param]: string }`. */
  AUTH_PARAMS: 'AuthParams',
  /** Secrets Manager ARN holding the secret auth params (read at runtime). */
  AUTH_SECRET_ARN: 'AuthSecretArn',
  /** `{ [authParam]: jsonKeyInSecret }`, e.g. `{ s3AccessKey: 'accessKeyId' }`. */
  AUTH_SECRET_FIELDS: 'AuthSecretFields',
  /** Non-secret value that changes when the secret changes (access key id, serial). */
  CHANGE_TOKEN: 'ChangeToken',
  /** Optional `{ specName, params: { [k]: string } }`, sent as the top-level `encryption` block. */
  ENCRYPTION: 'Encryption',
  /** `'true'`: prove the AWS key works (STS GetCallerIdentity) before registering it. */
  VERIFY_AWS_KEY: 'VerifyAwsKey',
  /**
   * When set (seconds, as a string), the handler registers STS temporary credentials obtained
   * with GetSessionToken from the long-term key instead of the key itself.
   */
  SESSION_TOKEN_DURATION: 'SessionTokenDurationSeconds',
  /** `'retain'` leaves the AEP connection in place on delete; anything else deletes it. */
  REMOVAL_POLICY: 'RemovalPolicy',
  /**
   * Bucket of the deploy-time reachability check; unset = no check. Source: AEP explores the
   * folder after the connection is made. Destination `Access Key`: the key lists it before.
   */
  REACHABILITY_BUCKET: 'ReachabilityBucket',
  /** Key prefix of the reachability check (`''` = the whole bucket). */
  REACHABILITY_FOLDER: 'ReachabilityFolder',
} as const;

/** Properties of {@link ResourceTypes.TARGET_CONNECTION}. */
export const TargetConnectionProps = {
  NAME: 'Name',
  DESCRIPTION: 'Description',
  CONNECTION_SPEC_ID: 'ConnectionSpecId',
  BASE_CONNECTION_ID: 'BaseConnectionId',
  /** Target params `{ mode, bucketName, path, fileType?, datasetFileType?, compression, csvOptions?, includeFileManifest? }`. */
  PARAMS: 'Params',
  REMOVAL_POLICY: 'RemovalPolicy',
} as const;

/** Properties of {@link ResourceTypes.IAM_ROLE_LOOKUP}. */
export const IamRoleLookupProps = {
  CONNECTION_SPEC_ID: 'ConnectionSpecId',
} as const;

/** Keys of the response `Data` (read with `Fn::GetAtt`). Never secret. */
export const Attributes = {
  CONNECTION_ID: 'ConnectionId',
  TARGET_CONNECTION_ID: 'TargetConnectionId',
  ETAG: 'Etag',
  IAM_ROLE_ARN: 'IamRoleArn',
} as const;

/** Values of {@link ConnectionProps.REMOVAL_POLICY} / {@link TargetConnectionProps.REMOVAL_POLICY}. */
export const RemovalPolicies = {
  RETAIN: 'retain',
  DELETE: 'delete',
} as const;

/**
 * Event the scheduled session-token refresh function receives (EventBridge rule input).
 * Same sandbox keys as {@link CommonProps}, plus the connection and the long-term key secret.
 */
export const RefreshEventKeys = {
  CONNECTION_ID: 'ConnectionId',
  /** The AEP connection name, used as the metric dimension. */
  NAME: ConnectionProps.NAME,
  AUTH_SECRET_ARN: ConnectionProps.AUTH_SECRET_ARN,
  AUTH_SECRET_FIELDS: ConnectionProps.AUTH_SECRET_FIELDS,
  SESSION_TOKEN_DURATION: ConnectionProps.SESSION_TOKEN_DURATION,
} as const;

/** CloudWatch namespace and metric the refresh function emits (1 = success, 0 = failure). */
export const RefreshMetric = {
  NAMESPACE: 'CdkAepS3',
  NAME: 'SessionTokenRefreshSuccess',
  DIMENSION: 'ConnectionName',
} as const;

/** Marker written into the AEP description so a retried Create can adopt what it made. */
/**
 * Shape of an AWS access key id: `AKIA` (long-term) or `ASIA` (temporary) and 16 upper-case
 * letters or digits. A secret access key (40 characters) never matches, which is how swapped
 * secret fields are caught before the secret half is used as an identifier.
 */
export const AWS_ACCESS_KEY_ID_PATTERN = /^(AKIA|ASIA)[A-Z0-9]{16}$/;

export const ADOPTION_MARKER_PREFIX = '[cdk-aep-s3:';

/**
 * What a retained object's marker becomes: it still tells a human where the object came from,
 * but no longer matches {@link adoptionMarker}, so a later create never adopts it.
 */
export const RETIRED_MARKER_PREFIX = '[cdk-aep-s3-retained:';

/** The marker for one logical resource (stack id + logical id are unique per resource). */
export function adoptionMarker(stackId: string, logicalResourceId: string): string {
  return `${ADOPTION_MARKER_PREFIX}${stackIdentity(stackId)}/${logicalResourceId}]`;
}

/** The stable part of a stack ARN (`arn:...:stack/name/uuid` → `name/uuid`), or the input. */
function stackIdentity(stackId: string): string {
  const idx = stackId.indexOf(':stack/');
  return idx >= 0 ? stackId.substring(idx + ':stack/'.length) : stackId;
}

/** CloudFormation stringifies booleans; accept both. */
export function decodeBoolean(value: unknown): boolean {
  return value === true || value === 'true';
}

/** Production endpoints (overridable per sandbox). */
export const DefaultEndpoints = {
  FLOW_SERVICE_URL: 'https://platform.adobe.io/data/foundation/flowservice',
  FLOW_SERVICE_STAGE_URL: 'https://platform-stage.adobe.io/data/foundation/flowservice',
  IMS_URL: 'https://ims-na1.adobelogin.com',
  IMS_STAGE_URL: 'https://ims-na1-stg1.adobelogin.com',
} as const;

/** Default IMS scopes for Experience Platform (Adobe's documented set); the secret may override. */
export const DEFAULT_IMS_SCOPES = 'openid,AdobeID,read_organizations,additional_info.projectedProductContext,session';

/** An AWS IAM role ARN in any partition (AEP's `configParams.IAMRole`, `adobeRoleArn`). */
export const IAM_ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

/** STS GetSessionToken `DurationSeconds` limits (AWS STS API reference: 15 minutes to 36 hours). */
export const STS_SESSION_DURATION = { MIN_SECONDS: 900, MAX_SECONDS: 129_600 } as const;

/** Flow Service constants: connection spec ids and Adobe's destinations AWS account. */
export const AepIds = {
  S3_SOURCE_CONNECTION_SPEC: 'ecadc60c-7455-4d87-84dc-2a0e293d997b',
  S3_DESTINATION_CONNECTION_SPEC: '4fce964d-3f37-408f-9778-e597338a21ee',
  CONNECTION_SPEC_VERSION: '1.0',
  ADOBE_DESTINATIONS_ACCOUNT: '670664943635',
} as const;
