import { CustomResource, Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { AepSandbox } from './aep-sandbox';
import { Attributes, ConnectionProps, DestinationConnectionProps, ResourceTypes, STS_SESSION_DURATION } from './private/contract';
import { managedDescription } from './private/dataflow-parts';
import { constructing } from './private/errors';
import { AepProvider, removalPolicyProperty } from './private/provider';
import { defaultConnectionName } from './private/sandbox-properties';
import { validateInlineAuthParams } from './private/secret-params';
import { WITH_TARGET_CONNECTION, type WithTargetConnection } from './private/target-connection';
import { invalid, isConcrete, validateText } from './private/validation';

/** An encryption block sent with the base connection (top-level `encryption` in AEP). */
export interface ConnectionEncryption {
  /** AEP encryption spec name, e.g. `File Encryption`. */
  readonly specName: string;
  /** Encryption params (non-secret, e.g. a public key). */
  readonly params: { [key: string]: string };
}

/** Properties of an {@link AepConnection}. */
export interface AepConnectionProps {
  /** The AEP sandbox (credential + sandbox name + endpoints) the connection lives in. */
  readonly sandbox: AepSandbox;

  /** Flow Service connection spec id, e.g. the S3 destination `4fce964d-…`. */
  readonly connectionSpecId: string;

  /** Auth spec name exactly as AEP spells it, e.g. `Access Key`, `Assumed Role`. */
  readonly authSpecName: string;

  /**
   * Non-secret auth params, sent inline (they appear in the template and the Provider
   * framework's logs). Params AEP treats as secret (`s3SecretKey`, `s3SessionToken`, `s3Role`,
   * `password`, ...) are refused at synth time: pass them with `authSecret`/`authSecretFields`.
   * A map rather than a struct because the keys are the connection spec's own param names, sent
   * verbatim: write them as AEP spells them (camelCase) in every language, Python included.
   *
   * @default - none
   */
  readonly authParams?: { [param: string]: string };

  /**
   * Secret holding the secret auth params as JSON; read by the handler at deploy time.
   *
   * @default - no secret params
   */
  readonly authSecret?: secretsmanager.ISecret;

  /**
   * Maps each secret AEP auth param to the JSON key holding it in `authSecret`,
   * e.g. `{ s3AccessKey: 'accessKeyId', s3SecretKey: 'secretAccessKey' }`.
   *
   * @default - none
   */
  readonly authSecretFields?: { [param: string]: string };

  /**
   * A non-secret value that changes whenever the secret changes (an access key id, a serial),
   * so that a rotation becomes a CloudFormation update that pushes the new value to AEP.
   *
   * @default - none: changing only the secret value does not update AEP
   */
  readonly changeToken?: string;

  /**
   * The AEP connection name.
   *
   * @default - derived deterministically from the construct path
   */
  readonly connectionName?: string;

  /**
   * The AEP connection description.
   *
   * @default - 'Managed by AWS CDK (cdk-aep-s3): <construct path>'
   */
  readonly description?: string;

  /**
   * Encryption block for file-based destinations.
   *
   * @default - no encryption
   */
  readonly encryption?: ConnectionEncryption;

  /**
   * Prove the AWS access key works (STS GetCallerIdentity signed with it, waiting out IAM
   * propagation) before registering it with AEP.
   *
   * @default false
   */
  readonly verifyAwsKey?: boolean;

  /**
   * Bucket of the deploy-time reachability check (source: AEP explores the folder after the
   * connection is made; destination access key: the key lists the folder before).
   *
   * @default - no reachability check
   */
  readonly reachabilityBucket?: string;

  /**
   * Key prefix of the reachability check.
   *
   * @default '' (the whole bucket)
   */
  readonly reachabilityFolder?: string;

  /**
   * Register STS temporary credentials (GetSessionToken with the long-term key in
   * `authSecret`) valid for this long, instead of the long-term key.
   *
   * They expire: something must refresh them before that, or AEP loses access. `AepS3Source`
   * does this with a scheduled refresh function; on its own this only covers the deployment.
   *
   * @default - the long-term key itself is registered
   */
  readonly sessionTokenDuration?: Duration;

  /**
   * What happens to the AEP connection when the resource leaves the stack.
   * `RemovalPolicy.RETAIN` leaves it in AEP; anything else deletes it.
   *
   * @default RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * A Flow Service base connection, registered, updated and deleted with the stack.
 *
 * The building block of {@link AepS3Destination} and {@link AepS3Source}; use it directly for
 * other connection specs.
 */
export class AepConnection extends Construct {
  /** The AEP connection id (also the custom resource's physical id). */
  public readonly connectionId: string;
  /** The AEP connection name. */
  public readonly connectionName: string;
  /** The custom resource. */
  public readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: AepConnectionProps) {
    super(scope, id);
    constructing(this);

    this.connectionName = props.connectionName ?? defaultConnectionName(this);
    validateText('connectionName', this.connectionName, 256);
    validateText('description', props.description, 1024, true);
    validateText('authSpecName', props.authSpecName, 128);
    if (isConcrete(props.connectionSpecId) && !/^[0-9a-f-]{36}$/.test(props.connectionSpecId)) {
      invalid('connectionSpecId', props.connectionSpecId, 'must be a Flow Service connection spec id (a lowercase UUID)');
    }
    if (/"/.test(this.connectionName)) {
      invalid('connectionName', this.connectionName, 'must not contain double quotes (AEP name filters quote the name)');
    }
    validateInlineAuthParams('authParams', props.authParams);
    if (props.authSecretFields && Object.keys(props.authSecretFields).length > 0 && !props.authSecret) {
      invalid('authSecretFields', props.authSecretFields, 'needs authSecret to read the fields from');
    }
    if (props.sessionTokenDuration) {
      const seconds = props.sessionTokenDuration.toSeconds();
      const { MIN_SECONDS, MAX_SECONDS } = STS_SESSION_DURATION;
      if (!Token.isUnresolved(seconds) && (seconds < MIN_SECONDS || seconds > MAX_SECONDS)) {
        invalid('sessionTokenDuration', `${seconds} seconds`, `must be between ${MIN_SECONDS} and ${MAX_SECONDS} seconds (STS GetSessionToken limits)`);
      }
    }

    // A destination's target connection rides on the same custom resource (one fewer resource per
    // destination). A new construct id: CloudFormation refuses to change a resource's type in place.
    const target = (props as AepConnectionProps & Partial<WithTargetConnection>)[WITH_TARGET_CONNECTION];
    this.resource = AepProvider.of(this).addResource(this, target ? 'Destination' : 'Resource', {
      resourceType: target ? ResourceTypes.DESTINATION_CONNECTION : ResourceTypes.CONNECTION,
      sandbox: props.sandbox,
      secrets: props.authSecret ? [props.authSecret] : [],
      properties: {
        [ConnectionProps.NAME]: this.connectionName,
        [ConnectionProps.DESCRIPTION]: props.description ?? managedDescription(this),
        [ConnectionProps.CONNECTION_SPEC_ID]: props.connectionSpecId,
        [ConnectionProps.AUTH_SPEC_NAME]: props.authSpecName,
        [ConnectionProps.AUTH_PARAMS]: props.authParams ?? {},
        [ConnectionProps.AUTH_SECRET_ARN]: props.authSecret?.secretArn,
        [ConnectionProps.AUTH_SECRET_FIELDS]: props.authSecretFields,
        [ConnectionProps.CHANGE_TOKEN]: props.changeToken,
        [ConnectionProps.ENCRYPTION]: props.encryption
          ? { specName: props.encryption.specName, params: props.encryption.params }
          : undefined,
        [ConnectionProps.VERIFY_AWS_KEY]: props.verifyAwsKey ? 'true' : undefined,
        [ConnectionProps.SESSION_TOKEN_DURATION]: props.sessionTokenDuration
          ? String(props.sessionTokenDuration.toSeconds())
          : undefined,
        [ConnectionProps.REMOVAL_POLICY]: removalPolicyProperty(props.removalPolicy),
        [ConnectionProps.REACHABILITY_BUCKET]: props.reachabilityBucket,
        [ConnectionProps.REACHABILITY_FOLDER]: props.reachabilityBucket === undefined ? undefined : props.reachabilityFolder ?? '',
        ...(target ? { [DestinationConnectionProps.TARGET_PARAMS]: target.params } : {}),
        [ConnectionProps.TRUSTED_IMS_ORG_ID]: target?.trustedImsOrgId,
      },
    });

    this.connectionId = this.resource.getAttString(Attributes.CONNECTION_ID);
  }
}
