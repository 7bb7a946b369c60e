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

/** Bumped whenever a property is added, removed or changes meaning (2: `TrustedImsOrgId`). */
export const CONTRACT_VERSION = '2';

/** CloudFormation resource types handled by the single onEvent function. */
export const ResourceTypes = {
  /** A Flow Service base connection (`/connections`). */
  CONNECTION: 'Custom::AepConnection',
  /** A Flow Service target connection (`/targetConnections`), destinations only. */
  TARGET_CONNECTION: 'Custom::AepTargetConnection',
  /** Reads AEP's IAM role from `/connectionSpecs/{id}/configs?authType=IamBasedAuthentication`. */
  IAM_ROLE_LOOKUP: 'Custom::AepIamRoleLookup',
  /**
   * A destination's base connection AND its target connection, as one resource (one fewer per
   * destination). Physical id = the base connection id. Stacks deployed before it still hold
   * {@link CONNECTION} + {@link TARGET_CONNECTION} pairs, which the handler keeps serving.
   */
  DESTINATION_CONNECTION: 'Custom::AepDestinationConnection',
  /**
   * With `keyLifecycle`, next to a library-made IAM user: its Delete deletes the keys made outside
   * CloudFormation (scheduled rotation), which IAM requires before it deletes the user, when the
   * user still carries {@link ACCESS_KEY_CLEANUP_TAG}. Physical id = the user name. No AEP call.
   */
  ACCESS_KEY_CLEANUP: 'Custom::AepS3AccessKeyCleanup',
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
  /**
   * The IMS org id (`…@AdobeOrg`) an assumed-role destination's trust policy requires as
   * `sts:ExternalId` (not a secret). When set, the handler refuses to register the connection
   * (before any POST or PATCH) unless the AEP credential's `orgId` is this org: AEP assumes the
   * role with the org id of the credential that made the connection. Added in contract version 2.
   */
  TRUSTED_IMS_ORG_ID: 'TrustedImsOrgId',
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

/**
 * Properties of {@link ResourceTypes.DESTINATION_CONNECTION}: every base connection property
 * (name, description, connection spec and removal policy are shared with the target) plus the
 * target's params.
 */
export const DestinationConnectionProps = {
  ...ConnectionProps,
  /** Target params, as {@link TargetConnectionProps.PARAMS}. */
  TARGET_PARAMS: 'TargetParams',
} as const;

/** Properties of {@link ResourceTypes.IAM_ROLE_LOOKUP}. */
export const IamRoleLookupProps = {
  CONNECTION_SPEC_ID: 'ConnectionSpecId',
} as const;

/** Properties of {@link ResourceTypes.ACCESS_KEY_CLEANUP}. */
export const AccessKeyCleanupProps = {
  /** The IAM user whose remaining access keys go when the resource is deleted. */
  USER_NAME: 'UserName',
} as const;

/**
 * The IAM user tag that arms {@link ResourceTypes.ACCESS_KEY_CLEANUP}: present exactly while the
 * template asks for the cleanup. Removing `keyLifecycle` removes the tag in the update phase,
 * before the cleanup resource's Delete in the cleanup phase, which then leaves AEP's key alone;
 * when the user itself goes, the tag is still on it.
 */
export const ACCESS_KEY_CLEANUP_TAG = { KEY: 'cdk-aep-s3:delete-keys-with-user', VALUE: 'true' } as const;

/** Keys of the response `Data` (read with `Fn::GetAtt`). Never secret. */
export const Attributes = {
  CONNECTION_ID: 'ConnectionId',
  TARGET_CONNECTION_ID: 'TargetConnectionId',
  ETAG: 'Etag',
  /** Etag of the target connection of a {@link ResourceTypes.DESTINATION_CONNECTION}. */
  TARGET_ETAG: 'TargetEtag',
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

/**
 * The key watch's target (age metric, scheduled rotation), pinned as JSON in its environment
 * ({@link HandlerEnvironment.KEY_WATCH_TARGET}) with the sandbox's {@link CommonProps}; the
 * function reads nothing from its event.
 */
export const KeyWatchKeys = {
  /** The library-made IAM user whose keys are watched. */
  USER_NAME: 'UserName',
  CONNECTION_ID: 'ConnectionId',
  CONNECTION_SPEC_ID: ConnectionProps.CONNECTION_SPEC_ID,
  /** The AEP connection name, the metric dimension. */
  NAME: ConnectionProps.NAME,
  AUTH_SECRET_ARN: ConnectionProps.AUTH_SECRET_ARN,
  AUTH_SECRET_FIELDS: ConnectionProps.AUTH_SECRET_FIELDS,
  /** Set when AEP holds session credentials made from the key (source `sessionToken`). */
  SESSION_TOKEN_DURATION: ConnectionProps.SESSION_TOKEN_DURATION,
  /** Rotate once the key AEP uses is this many seconds old; absent: measure only. */
  ROTATE_AFTER_SECONDS: 'RotateAfterSeconds',
} as const;

/** Metrics of the key watch (namespace shared with the refresh metric). */
export const KeyWatchMetric = {
  NAMESPACE: RefreshMetric.NAMESPACE,
  /** Age in days of the oldest active key of the user, as IAM reports it (CreateDate). */
  AGE: 'AccessKeyAgeDays',
  /** 1 per successful watch run that may rotate, 0 per failed one. */
  ROTATION: 'AccessKeyRotationSuccess',
  DIMENSION: RefreshMetric.DIMENSION,
} as const;

/**
 * Event the scheduled dataflow health check receives (one EventBridge rule per dataflow, input
 * set by the construct). Same sandbox keys as {@link CommonProps}, plus the flow.
 */
export const HealthEventKeys = {
  FLOW_ID: 'FlowId',
  /** `'true'` / `'false'`: what the stack declares (a disabled flow the stack wants enabled is the alarm). */
  DECLARED_ENABLED: 'Enabled',
  /** Seconds back from the check time whose runs are counted (failed, empty). */
  RUNS_WINDOW_SECONDS: 'RunsWindowSeconds',
  /** The scheduled event's time (ISO-8601): the check's "now", so a late invocation counts the same window. */
  TIME: 'Time',
} as const;

/** CloudWatch namespace, dimension and metrics the health check emits (Embedded Metric Format). */
export const HealthMetric = {
  NAMESPACE: 'CdkAepS3/Dataflows',
  DIMENSION: 'FlowId',
  FAILED_RUNS: 'FailedRuns',
  EMPTY_RUNS: 'EmptyRuns',
  HOURS_SINCE_SUCCESS: 'HoursSinceLastSuccess',
  DISABLED: 'DisabledWhileDeclaredEnabled',
} as const;

/**
 * Shape of an AWS access key id: `AKIA` (long-term) or `ASIA` (temporary) and 16 upper-case
 * letters or digits. A secret access key (40 characters) never matches, which is how swapped
 * secret fields are caught before the secret half is used as an identifier.
 */
export const AWS_ACCESS_KEY_ID_PATTERN = /^(AKIA|ASIA)[A-Z0-9]{16}$/;

/** Start of the marker written into AEP descriptions so a retried Create can adopt what it made. */
export const ADOPTION_MARKER_PREFIX = '[cdk-aep-s3:';

/**
 * What a retained object's marker becomes: it still tells a human where the object came from,
 * but no longer matches {@link adoptionMarker}, so a later create never adopts it.
 */
export const RETIRED_MARKER_PREFIX = '[cdk-aep-s3-retained:';

/**
 * The marker for one logical resource: `[cdk-aep-s3:<region>:<account>:<stack name>/<stack uuid>/<logical id>]`.
 * The stack uuid alone already tells two stacks apart (CloudFormation mints one per stack
 * creation, so a re-created stack never adopts its predecessor's objects); region and account
 * say where that stack lives, so whoever lists a sandbox shared by several regions and accounts
 * (the doctor) can ask the right CloudFormation instead of calling another region's live objects
 * orphans. Stable for the stack's whole life, which is what adoption on a retried
 * Create and twin removal on Update/Delete need.
 */
export function adoptionMarker(stackId: string, logicalResourceId: string): string {
  const arn = parseStackArn(stackId);
  const identity = arn ? `${arn.region}:${arn.account}:${arn.stackName}/${arn.stackUuid}` : stackId;
  return `${ADOPTION_MARKER_PREFIX}${identity}/${logicalResourceId}]`;
}

/**
 * The marker earlier versions wrote (`[cdk-aep-s3:<stack name>/<stack uuid>/<logical id>]`,
 * no region or account). Objects made then still carry it until their next Update rewrites their
 * description; the stack uuid in it is unique, so it still names one stack only and is accepted
 * as ours (never another region's: that stack has another uuid).
 */
export function legacyAdoptionMarker(stackId: string, logicalResourceId: string): string {
  const arn = parseStackArn(stackId);
  return `${ADOPTION_MARKER_PREFIX}${arn ? `${arn.stackName}/${arn.stackUuid}` : stackId}/${logicalResourceId}]`;
}

/** The markers that mean "this logical resource": the current one and the one earlier versions wrote. */
export function ownMarkers(marker: string): string[] {
  const legacy = marker.replace(/^\[cdk-aep-s3:[a-z0-9-]+:\d{12}:/, ADOPTION_MARKER_PREFIX);
  return legacy === marker ? [marker] : [marker, legacy];
}

/** What a marker found in a description says. */
export interface ParsedMarker {
  /** Retired by a RETAIN removal policy. */
  readonly retired: boolean;
  /** Absent in markers written before region and account were added. */
  readonly region?: string;
  readonly account?: string;
  readonly stackName: string;
  readonly stackUuid: string;
  readonly logicalId: string;
}

const MARKER_PATTERN = /\[cdk-aep-s3(-retained)?:(?:([a-z0-9-]+):(\d{12}):)?([^/\]:]+)\/([^/\]]+)\/([^\]]+)\]/;

/** The first marker (live or retired) in `text`, or undefined. */
export function parseMarker(text: string): ParsedMarker | undefined {
  const m = MARKER_PATTERN.exec(text);
  if (!m) return undefined;
  return {
    retired: m[1] !== undefined,
    ...(m[2] !== undefined ? { region: m[2], account: m[3] } : {}),
    stackName: m[4],
    stackUuid: m[5],
    logicalId: m[6],
  };
}

/** `arn:<partition>:cloudformation:<region>:<account>:stack/<name>/<uuid>`, parsed; undefined for anything else. */
function parseStackArn(stackId: string): { region: string; account: string; stackName: string; stackUuid: string } | undefined {
  const m = /^arn:[a-z-]+:cloudformation:([a-z0-9-]+):(\d{12}):stack\/([^/]+)\/([^/]+)$/.exec(stackId);
  return m ? { region: m[1], account: m[2], stackName: m[3], stackUuid: m[4] } : undefined;
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

/**
 * Environment of the handler functions, set at synth and never taken from an event.
 * `ALLOWED_ENDPOINTS`: the `[flowServiceUrl, imsUrl]` pairs of the stack's sandboxes as a JSON
 * array (see {@link encodeAllowedEndpoints}). The handler refuses, before reading any secret,
 * an event whose endpoints are not one of these pairs: whoever may invoke the function must not
 * be able to send the AEP credential to a server of their choosing.
 */
export const HandlerEnvironment = {
  ALLOWED_ENDPOINTS: 'CDK_AEP_S3_ALLOWED_ENDPOINTS',
  /**
   * The refresh function's own connection, key secret and sandbox (JSON of
   * {@link REFRESH_PINNED_KEYS}): an event naming another is refused.
   */
  REFRESH_TARGET: 'CDK_AEP_S3_REFRESH_TARGET',
  /** The key watch's whole target (JSON of {@link KeyWatchKeys} and the sandbox's common props). */
  KEY_WATCH_TARGET: 'CDK_AEP_S3_KEY_WATCH_TARGET',
} as const;

/**
 * What a refresh event must agree with the function's environment on: which connection gets new
 * credentials, from which key, in which sandbox and as whom.
 */
export const REFRESH_PINNED_KEYS: readonly string[] = [
  RefreshEventKeys.CONNECTION_ID,
  RefreshEventKeys.AUTH_SECRET_ARN,
  CommonProps.CREDENTIALS_SECRET_ARN,
  CommonProps.SANDBOX_NAME,
];

/** One allowed `[flowServiceUrl, imsUrl]` pair. */
export type EndpointPair = readonly [flowServiceUrl: string, imsUrl: string];

/** The value of `ALLOWED_ENDPOINTS`: distinct pairs in a fixed order (same stack, same template). */
export function encodeAllowedEndpoints(pairs: readonly EndpointPair[]): string {
  const distinct = new Map(pairs.map((p) => [JSON.stringify(p), [p[0], p[1]]]));
  return JSON.stringify([...distinct.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, p]) => p));
}

/** Reads `ALLOWED_ENDPOINTS`; undefined when absent or not a list of string pairs. */
export function decodeAllowedEndpoints(value: string | undefined): EndpointPair[] | undefined {
  if (value === undefined || value === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed)) return undefined;
  const pairs: EndpointPair[] = [];
  for (const p of parsed) {
    if (!Array.isArray(p) || p.length !== 2 || typeof p[0] !== 'string' || typeof p[1] !== 'string') return undefined;
    pairs.push([p[0], p[1]]);
  }
  return pairs;
}

/** Default IMS scopes for Experience Platform (Adobe's documented set); the secret may override. */
export const DEFAULT_IMS_SCOPES = 'openid,AdobeID,read_organizations,additional_info.projectedProductContext,session';

/** An Adobe IMS organization id, `…@AdobeOrg` (what AEP sends as `sts:ExternalId` when it assumes a destination role). */
export const IMS_ORG_ID = /^[A-Za-z0-9]+@AdobeOrg$/;

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

/** Dataflow resource types (issue 11), handled by the same onEvent function. */
export const DataflowResourceTypes = {
  /** A source connection (`/sourceConnections`): S3 files, or the Profile Store / Data Lake of an export. */
  SOURCE_CONNECTION: 'Custom::AepSourceConnection',
  /** A target connection to the Data Lake (a dataset) for ingestion; no base connection. */
  DATASET_TARGET_CONNECTION: 'Custom::AepDatasetTargetConnection',
  /** A Data Prep mapping set (`/conversion/mappingSets`); AEP cannot delete them. */
  MAPPING_SET: 'Custom::AepMappingSet',
  /** A dataflow (`/flows`). */
  FLOW: 'Custom::AepFlow',
  /**
   * The profile attributes an audience export writes: a Data Prep mapping set from the profile
   * union schema to the S3 card's partner schema (DATAFLOWS §4.6); AEP cannot delete them.
   */
  PROFILE_MAPPING: 'Custom::AepProfileMapping',
} as const;

/** Properties of {@link DataflowResourceTypes.SOURCE_CONNECTION} and {@link DataflowResourceTypes.DATASET_TARGET_CONNECTION}. */
export const DataflowConnectionProps = {
  NAME: 'Name',
  DESCRIPTION: 'Description',
  CONNECTION_SPEC_ID: 'ConnectionSpecId',
  /** Absent for the Profile Store / Data Lake source and the Data Lake target. */
  BASE_CONNECTION_ID: 'BaseConnectionId',
  /** `data` block (`{ format, properties? }` or `{ schema: { id, version } }`); fixed at creation. */
  DATA: 'Data',
  /** `params` block (`{ path, type, recursive }`, `{ dataSetId }`); fixed at creation. */
  PARAMS: 'Params',
  REMOVAL_POLICY: 'RemovalPolicy',
} as const;

/** Properties of {@link DataflowResourceTypes.MAPPING_SET}. */
export const MappingSetProps = {
  /** Target XDM schema `$id`. */
  SCHEMA_ID: 'SchemaId',
  /** `[{ source, destination, sourceType }]`. */
  MAPPINGS: 'Mappings',
} as const;

/** Properties of {@link DataflowResourceTypes.PROFILE_MAPPING}. */
export const ProfileMappingProps = {
  /** XDM paths of the union schema (`person.name.firstName`) and `identityMap.<namespace>`, in column order. */
  ATTRIBUTES: 'Attributes',
} as const;

/** Properties of {@link DataflowResourceTypes.FLOW}. */
export const FlowProps = {
  NAME: 'Name',
  DESCRIPTION: 'Description',
  /** Flow spec name resolved at deploy time (`GET /flowSpecs?property=name==…`); optional. */
  FLOW_SPEC_NAME: 'FlowSpecName',
  /** Documented flow spec id: the fallback when the name resolves to nothing, and the check when it does. */
  FLOW_SPEC_ID: 'FlowSpecId',
  SOURCE_CONNECTION_ID: 'SourceConnectionId',
  TARGET_CONNECTION_ID: 'TargetConnectionId',
  /** Source flows: `{ mappingId, mappingVersion }` of the `Mapping` transformation. */
  MAPPING: 'Mapping',
  /** Source flows: `{ startTime, frequency, interval?, backfill? }` (strings). */
  SCHEDULE: 'Schedule',
  /**
   * Dataset export flows (their marker): `scheduleParams` `{ interval, timeUnit, startTime, endTime?,
   * exportMode, folderNameTemplate? }` (strings; [spec-dst] "Dataset Schedule Params").
   */
  DATASET_SCHEDULE: 'DatasetSchedule',
  /** Audience flows: `[{ id, name?, exportMode, schedule: {…}, fileNameTemplate? }]`. */
  AUDIENCES: 'Audiences',
  /** Audience flows: profile attribute paths exported (`mandatoryFields`). */
  MANDATORY_FIELDS: 'MandatoryFields',
  /** Audience flows: deduplication keys `[{ fieldType, identityNamespace | attributePath }]`. */
  PRIMARY_FIELDS: 'PrimaryFields',
  /** Audience flows: `{ mappingId, mappingVersion }` of the profile mapping (`profileMapping`); absent = `{}`. */
  PROFILE_MAPPING: 'ProfileMapping',
  /** `'true'` / `'false'`. */
  ENABLED: 'Enabled',
  REMOVAL_POLICY: 'RemovalPolicy',
  /** `'true'`: an Update re-enables a flow AEP disabled (its own reason on the flow); absent = report only. */
  RE_ENABLE_WHEN_DISABLED_BY_AEP: 'ReEnableWhenDisabledByAep',
} as const;

/** `Data` keys of dataflow resources. */
export const DataflowAttributes = {
  SOURCE_CONNECTION_ID: 'SourceConnectionId',
  TARGET_CONNECTION_ID: 'TargetConnectionId',
  MAPPING_SET_ID: 'MappingSetId',
  MAPPING_SET_VERSION: 'MappingSetVersion',
  FLOW_ID: 'FlowId',
  FLOW_SPEC_ID: 'FlowSpecId',
  /** What the last Update found AEP had changed on its own (a disable with AEP's reason, an export near or past its endTime); absent when nothing. */
  AEP_NOTICE: 'AepNotice',
} as const;

/** Dataflow constants (DATAFLOWS §0.1). */
export const DataflowIds = {
  CLOUD_STORAGE_FLOW_SPEC: '9753525b-82c7-4dce-8a9b-5ccfce2b9876',
  CLOUD_STORAGE_FLOW_SPEC_NAME: 'CloudStorageToAEP',
  DATA_LAKE_TARGET_CONNECTION_SPEC: 'c604ff05-7f1a-43c0-8e18-33bf874cb11c',
  S3_AUDIENCE_FLOW_SPEC: '1a0514a6-33d4-4c7f-aff8-594799c47549',
  S3_DATASET_FLOW_SPEC: '269ba276-16fc-47db-92b0-c1049a3c131f',
  PROFILE_STORE_SOURCE_SPEC: '8a9c3494-9708-43d7-ae3f-cda01e5030e1',
  DATA_LAKE_SOURCE_SPEC: '23598e46-f560-407b-88d5-ea6207e49db0',
  /** `data.schema.version` of a Data Lake target ("returns the latest minor version"). */
  XDM_FULL_CONTENT_TYPE: 'application/vnd.adobe.xed-full+json;version=1',
} as const;
