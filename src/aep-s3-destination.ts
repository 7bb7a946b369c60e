import { RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { AepConnection, AepConnectionProps } from './aep-connection';
import { AepSandbox } from './aep-sandbox';
import { DatasetDataflow, DatasetDataflowOptions } from './dataset-dataflow';
import { S3DestinationAuth } from './destination-auth';
import { DestinationDataflow, DestinationDataflowOptions } from './destination-dataflow';
import {
  Compression,
  CsvDelimiter,
  CsvEscape,
  CsvOptions,
  CsvQuote,
  CsvValueRepresentation,
  DatasetFileType,
  ExportFileType,
  ExportType,
} from './export-options';
import { FileEncryption } from './file-encryption';
import { AepIds } from './private/contract';
import { refuseRetainedFlowOnDeletedConnection } from './private/dataflow-parts';
import { registerDestination } from './private/destination-registry';
import { constructing } from './private/errors';
import { AccessKeyWatch } from './private/key-watch';
import { isRetain } from './private/provider';
import { retainOnDelete } from './private/retain';
import {
  FolderScope,
  folderScope,
  hasSegmentMacro,
  validateDestinationFolderPath,
  validateIamScopedDestinationFolder,
} from './private/s3-scope';
import { s3DestinationTargetParams, targetConnectionIdOf, WITH_TARGET_CONNECTION, type WithTargetConnection } from './private/target-connection';
import { invalid, literalBucketName, validateDestinationBucketName, validateEnum } from './private/validation';

/** Default folder of audience exports: one sub-folder per audience. */
const DEFAULT_AUDIENCE_FOLDER = 'aep/%SEGMENT_NAME%';
/** Default folder of dataset exports (segment macros mean nothing there). */
const DEFAULT_DATASET_FOLDER = 'aep/datasets';

/** Object actions AEP needs in the folder (Adobe's documented minimum permissions). */
const OBJECT_ACTIONS = ['s3:PutObject', 's3:GetObject', 's3:DeleteObject', 's3:ListMultipartUploadParts'];
/** Bucket-level actions besides `s3:ListBucket`; they only take effect on the bucket ARN. */
const BUCKET_ACTIONS = ['s3:GetBucketLocation'];
/**
 * KMS actions for an SSE-KMS bucket (not in Adobe's list): GenerateDataKey to
 * write, Decrypt for multipart uploads and the read-back AEP does with GetObject. S3 never calls
 * kms:Encrypt for SSE-KMS, so it is not granted. Only through S3 (`kms:ViaService`), so AEP
 * cannot use the key directly.
 */
const KEY_ACTIONS = ['kms:GenerateDataKey', 'kms:Decrypt'];

/** Properties of an {@link AepS3Destination}. */
export interface AepS3DestinationProps {
  /** The AEP sandbox (API credential, sandbox name, endpoints). */
  readonly sandbox: AepSandbox;

  /** The bucket AEP writes to: created in this app or imported (e.g. `Bucket.fromBucketName`). */
  readonly bucket: s3.IBucket;

  /**
   * The KMS key of an SSE-KMS bucket, for imported buckets (which carry no key). AEP's principal
   * gets `kms:GenerateDataKey` and `kms:Decrypt` on it, through S3 only
   * (`kms:ViaService` = S3 in the bucket's region: import a bucket of another region with
   * `Bucket.fromBucketAttributes({ bucketName, region })`). The key policy must allow IAM
   * policies of this account to grant access (the default for keys created by CDK).
   *
   * @default - `bucket.encryptionKey` (set for buckets created with `BucketEncryption.KMS`)
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * Folder AEP writes to, without a leading `/`. `%SEGMENT_NAME%` and `%SEGMENT_ID%` may end the
   * path (`…/%SEGMENT_NAME%`, `…/%SEGMENT_ID%`, `…/%SEGMENT_NAME%/%SEGMENT_ID%`) for a folder per
   * audience. Permissions cover the static part before the first macro (`aep/` for the default).
   *
   * May be a token (e.g. a `CfnParameter`): CloudFormation then computes the same static prefix
   * (the text before the first `%`), and the rules are not checked at synth time.
   * Change in AEP: patched in place; dataflows: untouched.
   *
   * @default - 'aep/%SEGMENT_NAME%' for audience exports, 'aep/datasets' for dataset exports
   */
  readonly folderPath?: string;

  /**
   * How AEP authenticates to the bucket.
   * Change in AEP: replaces the AEP object; dataflows: its dataflows are re-created on the new connection (new flow ids; the run history stays with the old ones).
   *
   * @default S3DestinationAuth.accessKey()
   */
  readonly auth?: S3DestinationAuth;

  /**
   * What AEP exports through this destination.
   *
   * @default ExportType.AUDIENCES
   */
  readonly exportType?: ExportType;

  /**
   * File format of audience exports. Not allowed with `ExportType.DATASETS`.
   * Change in AEP: patched in place; dataflows: untouched.
   *
   * @default ExportFileType.CSV
   */
  readonly fileType?: ExportFileType;

  /**
   * File format of dataset exports. Only allowed with `ExportType.DATASETS`.
   *
   * @default DatasetFileType.JSON
   */
  readonly datasetFileType?: DatasetFileType;

  /**
   * Compression of exported files.
   * Change in AEP: patched in place; dataflows: untouched.
   *
   * @default Compression.NONE
   */
  readonly compression?: Compression;

  /**
   * CSV formatting. Only allowed with `ExportFileType.CSV`.
   *
   * @default - AEP's defaults
   */
  readonly csvOptions?: CsvOptions;

  /**
   * With an access key: prove before registering that the new key can list the export folder
   * (S3 ListObjectsV2 with the folder as prefix, in place of the STS key probe, so no extra
   * request on success). An assumed role cannot be probed from your account (only AEP's account
   * may assume it), so this does nothing for `DestinationAuth.assumedRole()`.
   *
   * @default true
   */
  readonly verifyReachability?: boolean;

  /**
   * Write a manifest file (`manifest-<destinationId>-<dataflowRunId>.json`) with every export.
   *
   * @default - not sent (AEP writes no manifest)
   */
  readonly includeFileManifest?: boolean;

  /**
   * PGP-encrypt exported files with your RSA public key.
   * Change in AEP: patched in place; dataflows: untouched.
   *
   * @default - files are not PGP-encrypted
   */
  readonly encryption?: FileEncryption;

  /**
   * The AEP connection name (also used for the target connection).
   * Change in AEP: patched in place; dataflows: untouched.
   *
   * @default - derived deterministically from the construct path
   */
  readonly connectionName?: string;

  /**
   * The AEP connection description.
   * Change in AEP: patched in place; dataflows: untouched.
   *
   * @default - 'Managed by AWS CDK (cdk-aep-s3): <construct path>'
   */
  readonly description?: string;

  /**
   * What happens when the destination leaves the stack (or the stack is destroyed).
   * `RemovalPolicy.RETAIN` keeps the AEP connections and the AWS credential they use (IAM user,
   * access key and secret, or role, and their policy) so existing dataflows keep working;
   * replaced credentials (a rotated key) are still deleted. Anything else deletes all of it.
   * Change in AEP: none; dataflows: untouched.
   *
   * @default RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * An Adobe Experience Platform Amazon S3 destination: a least-privilege AWS credential for AEP
 * (an IAM user with an access key, or a role Adobe assumes), the AEP base connection holding it,
 * and the AEP target connection describing bucket, folder and file format.
 *
 * Activating audiences or datasets to it (the dataflow) is done in AEP.
 */
export class AepS3Destination extends Construct {
  /** The AEP base connection id. */
  public readonly connectionId: string;
  /** The AEP base connection name. */
  public readonly connectionName: string;
  /** The AEP target connection id (use it when creating dataflows). */
  public readonly targetConnectionId: string;
  /** The folder path sent to AEP. */
  public readonly folderPath: string;
  /** The key prefix AEP's permissions are limited to (`''` = the whole bucket; a token when `folderPath` is one). */
  public readonly folderPrefix: string;
  /**
   * The principal AEP acts as (the IAM user or the role), for extra grants.
   * Undefined for `S3DestinationAuth.accessKeyFromSecret()` without a `user`.
   */
  /** Alarm before the library-made key passes `keyLifecycle.maxKeyAge` (only with it). */
  public readonly keyAgeAlarm?: cloudwatch.IAlarm;
  /** Alarm on a failed scheduled key rotation (only with `keyLifecycle.rotateEvery`). */
  public readonly keyRotationAlarm?: cloudwatch.IAlarm;
  public readonly grantee?: iam.IGrantable;
  /** The IAM user, for key-based auth when the library knows it. */
  public readonly user?: iam.IUser;
  /** The IAM role, for `S3DestinationAuth.assumedRole()`. */
  public readonly role?: iam.IRole;
  /** The secret holding the access key, for key-based auth. */
  public readonly credentialsSecret?: secretsmanager.ISecret;
  /**
   * The base connection construct. Its `resource` also registers the target connection
   * (`Custom::AepDestinationConnection`: one custom resource for both).
   */
  public readonly connection: AepConnection;

  private readonly sandbox: AepSandbox;
  private readonly exportType: ExportType;
  private readonly removalPolicy?: RemovalPolicy;

  constructor(scope: Construct, id: string, props: AepS3DestinationProps) {
    super(scope, id);
    constructing(this);
    props.sandbox._checkReadableFrom(this);
    validateDestinationEnums(props);
    this.sandbox = props.sandbox;
    this.exportType = props.exportType ?? ExportType.AUDIENCES;

    const exportType = props.exportType ?? ExportType.AUDIENCES;
    const folderPath = props.folderPath ?? (exportType === ExportType.DATASETS ? DEFAULT_DATASET_FOLDER : DEFAULT_AUDIENCE_FOLDER);
    validateDestinationProps(props, exportType, folderPath);

    const scopeOfFolder: FolderScope = folderScope(folderPath);
    this.folderPath = folderPath;
    this.folderPrefix = scopeOfFolder.prefix;
    registerDestination(this, {
      bucket: props.bucket,
      prefix: scopeOfFolder.prefix,
      sandboxName: props.sandbox.sandboxName,
      endpoints: `${props.sandbox.endpoints.flowServiceUrl} ${props.sandbox.endpoints.imsUrl}`,
    });

    const authScope = new Construct(this, 'Auth');
    const binding = (props.auth ?? S3DestinationAuth.accessKey())._bind(authScope, {
      grant: {
        bucket: props.bucket,
        scope: scopeOfFolder,
        objectActions: OBJECT_ACTIONS,
        bucketActions: BUCKET_ACTIONS,
        key: props.encryptionKey ?? props.bucket.encryptionKey,
        keyActions: KEY_ACTIONS,
      },
      sandboxImsOrgId: props.sandbox.imsOrgId,
      secretDescription: `Access key AEP uses to write to s3://${literalBucketName(props.bucket) ?? '<bucket>'}/${this.folderPrefix} (cdk-aep-s3, ${this.node.path})`,
    });
    if (isRetain(props.removalPolicy)) retainOnDelete(authScope);

    this.grantee = binding.grantee;
    this.user = binding.user;
    this.role = binding.role;
    this.credentialsSecret = binding.credentialsSecret;

    // One description for both AEP resources, naming this construct (not its children).
    const description = props.description ?? `Managed by AWS CDK (cdk-aep-s3): ${this.node.path}`;
    const targetParams = s3DestinationTargetParams({
      bucketName: props.bucket.bucketName,
      path: folderPath,
      exportType,
      fileType: props.fileType,
      datasetFileType: props.datasetFileType,
      compression: props.compression ?? Compression.NONE,
      csvOptions: props.csvOptions,
      includeFileManifest: props.includeFileManifest,
    });
    // Base and target connection are one custom resource (AEP names both after the connection).
    const connectionProps: AepConnectionProps & WithTargetConnection = {
      sandbox: props.sandbox,
      connectionSpecId: AepIds.S3_DESTINATION_CONNECTION_SPEC,
      authSpecName: binding.authSpecName,
      authParams: binding.authParams,
      authSecret: binding.authSecret,
      authSecretFields: binding.authSecretFields,
      changeToken: binding.changeToken,
      verifyAwsKey: binding.verifyAwsKey,
      ...(props.verifyReachability !== false && binding.authSpecName === 'Access Key'
        ? { reachabilityBucket: props.bucket.bucketName, reachabilityFolder: this.folderPrefix }
        : {}),
      encryption: props.encryption?._toConnectionEncryption(),
      connectionName: props.connectionName,
      description,
      removalPolicy: props.removalPolicy,
      [WITH_TARGET_CONNECTION]: { params: targetParams, trustedImsOrgId: binding.trustedImsOrgId },
    };
    this.connection = new AepConnection(this, 'Connection', connectionProps);
    // AEP may test the credential as soon as it is registered: permissions first.
    for (const d of binding.dependables) this.connection.resource.node.addDependency(d);
    this.connectionId = this.connection.connectionId;
    this.connectionName = this.connection.connectionName;
    this.targetConnectionId = targetConnectionIdOf(this.connection);
    this.removalPolicy = props.removalPolicy;

    // Day two: the key's age and its scheduled rotation (S3DestinationAuth.accessKey({ keyLifecycle })).
    if (binding.keyWatch) {
      const watch = new AccessKeyWatch(this, 'KeyWatch', {
        ...binding.keyWatch,
        sandbox: props.sandbox,
        connectionId: this.connectionId,
        connectionName: this.connectionName,
        connectionSpecId: AepIds.S3_DESTINATION_CONNECTION_SPEC,
        after: this.connection.resource,
      });
      this.keyAgeAlarm = watch.ageAlarm;
      this.keyRotationAlarm = watch.rotationAlarm;
    }
  }

  /**
   * Adds an audience export dataflow into this destination (`ExportType.AUDIENCES` only).
   * CloudFormation deletes it before this destination's connections.
   */
  public addAudienceDataflow(id: string, options: DestinationDataflowOptions): DestinationDataflow {
    if (this.exportType !== ExportType.AUDIENCES) {
      invalid('exportType', this.exportType, 'addAudienceDataflow exports audiences: the destination needs ExportType.AUDIENCES (use addDatasetDataflow for datasets)', this);
    }
    refuseRetainedFlowOnDeletedConnection(this, this.removalPolicy, id, options.removalPolicy);
    return new DestinationDataflow(this, id, { ...options, sandbox: this.sandbox, targetConnectionId: this.targetConnectionId });
  }

  /**
   * Adds an audience export dataflow into this destination.
   *
   * @deprecated use `addAudienceDataflow` (same behaviour; the name says which export it adds,
   * beside `addDatasetDataflow`). Removed in the next major release.
   */
  public addDataflow(id: string, options: DestinationDataflowOptions): DestinationDataflow {
    return this.addAudienceDataflow(id, options);
  }

  /**
   * Adds a dataset export dataflow into this destination (`ExportType.DATASETS` only: its target
   * connection carries `datasetFileType`). CloudFormation deletes it before this destination's
   * connections.
   */
  public addDatasetDataflow(id: string, options: DatasetDataflowOptions): DatasetDataflow {
    if (this.exportType !== ExportType.DATASETS) invalid('exportType', this.exportType, 'addDatasetDataflow exports datasets: the destination needs ExportType.DATASETS (use addAudienceDataflow for audiences)', this);
    refuseRetainedFlowOnDeletedConnection(this, this.removalPolicy, id, options.removalPolicy);
    return new DatasetDataflow(this, id, { ...options, sandbox: this.sandbox, targetConnectionId: this.targetConnectionId });
  }
}

/** Enum props given as plain strings from JavaScript must still be members. */
function validateDestinationEnums(props: AepS3DestinationProps): void {
  validateEnum('exportType', props.exportType, ExportType, 'ExportType');
  validateEnum('fileType', props.fileType, ExportFileType, 'ExportFileType');
  validateEnum('datasetFileType', props.datasetFileType, DatasetFileType, 'DatasetFileType');
  validateEnum('compression', props.compression, Compression, 'Compression');
  const csv = props.csvOptions;
  if (csv !== undefined) {
    validateEnum('csvOptions.delimiter', csv.delimiter, CsvDelimiter, 'CsvDelimiter');
    validateEnum('csvOptions.quote', csv.quote, CsvQuote, 'CsvQuote');
    validateEnum('csvOptions.escape', csv.escape, CsvEscape, 'CsvEscape');
    validateEnum('csvOptions.nullValue', csv.nullValue, CsvValueRepresentation, 'CsvValueRepresentation');
    validateEnum('csvOptions.emptyValue', csv.emptyValue, CsvValueRepresentation, 'CsvValueRepresentation');
  }
}

/** Synth-time checks: every error names the property, the value and the rule. */
function validateDestinationProps(props: AepS3DestinationProps, exportType: ExportType, folderPath: string): void {
  validateDestinationBucketName('bucket', literalBucketName(props.bucket));
  validateIamScopedDestinationFolder('folderPath', folderPath);
  validateDestinationFolderPath('folderPath', folderPath);
  const fileType = props.fileType ?? (exportType === ExportType.AUDIENCES ? ExportFileType.CSV : undefined);
  if (exportType === ExportType.DATASETS) {
    if (props.fileType !== undefined) {
      invalid('fileType', props.fileType, 'applies to audience exports only; use datasetFileType with ExportType.DATASETS');
    }
    if (hasSegmentMacro(folderPath)) {
      invalid('folderPath', folderPath, '%SEGMENT_NAME% / %SEGMENT_ID% macros apply to audience exports only, not to ExportType.DATASETS');
    }
  } else if (props.datasetFileType !== undefined) {
    invalid('datasetFileType', props.datasetFileType, 'applies to dataset exports only (exportType: ExportType.DATASETS); use fileType for audiences');
  }
  if (props.csvOptions !== undefined && fileType !== ExportFileType.CSV) {
    invalid('csvOptions', props.csvOptions, `only applies to CSV audience exports, not to ${exportType === ExportType.DATASETS ? 'dataset exports' : `fileType ${fileType}`}`);
  }
}

