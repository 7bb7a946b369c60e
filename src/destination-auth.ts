import { Annotations, CfnOutput, SecretValue } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { AccessKeyLifecycleOptions } from './access-key-lifecycle';
import { accessKeyAuthFields, ACCESS_KEY_FIELDS, ManagedAccessKey } from './private/access-key';
import { AepIds } from './private/contract';
import { DestinationAuthBinding, DestinationAuthBindOptions } from './private/destination-auth-binding';
import { resolveKeyLifecycle } from './private/key-watch';
import { suppressNag } from './private/nag';
import { ownedSecret } from './private/owned-secret';
import { FOLDER_POLICY_NAME, folderPolicy, folderPolicyDocument, folderWildcardSuppression, inlineFolderPolicy } from './private/s3-scope';
import { checkSecretReadableFrom } from './private/secret-location';
import { invalid, validateEnum, validateImsOrgId, validateSerial, validateText } from './private/validation';

/** AEP auth spec names of the S3 destination connection spec (`4fce964d…`). */
const AUTH_SPEC = {
  ACCESS_KEY: 'Access Key',
  ASSUMED_ROLE: 'Assumed Role',
} as const;

/**
 * Which Adobe principal the assumed role trusts: Adobe's destinations AWS account `670664943635`
 * (its root, as Adobe's setup page requires) or, narrower, its `destinations-adobe-user`.
 */
export enum AdobeDestinationPrincipal {
  /**
   * The whole Adobe destinations account, `arn:aws:iam::670664943635:root`: what Adobe's
   * setup steps produce ("Another AWS account").
   */
  ACCOUNT_ROOT = 'ACCOUNT_ROOT',
  /**
   * Only Adobe's destinations user, `arn:aws:iam::670664943635:user/destinations-adobe-user`:
   * the narrower principal Adobe documents as optional.
   */
  DESTINATIONS_USER = 'DESTINATIONS_USER',
}

/** Options of {@link S3DestinationAuth.accessKey}. */
export interface AccessKeyAuthOptions {
  /**
   * Bump to rotate the access key. CloudFormation creates the new key, the connection update
   * PATCHes AEP with it (same connection id), and the old key is deleted only in the cleanup
   * phase, after AEP has the new one.
   *
   * @default - no serial (the first key)
   */
  readonly serial?: number;

  /**
   * An alarm before the key passes an age you set, and/or a scheduled rotation of the key
   * (see {@link AccessKeyLifecycleOptions} for how a rotation outside CloudFormation and later
   * deploys fit together).
   *
   * @default - no age alarm, no scheduled rotation
   */
  readonly keyLifecycle?: AccessKeyLifecycleOptions;
}

/** Options of {@link S3DestinationAuth.assumedRole}. */
export interface AssumedRoleAuthOptions {
  /**
   * The Adobe principal allowed to assume the role.
   *
   * @default AdobeDestinationPrincipal.ACCOUNT_ROOT
   */
  readonly trustedPrincipal?: AdobeDestinationPrincipal;

  /**
   * The Adobe IMS organization id (`…@AdobeOrg`, not a secret) the role's trust requires as
   * `sts:ExternalId`. AEP passes the org id of the credential that registered the destination on
   * every AssumeRole, so with this condition only your own org can use the role, even if another
   * org learns its ARN. The deploy also checks that the sandbox's credential belongs to this org.
   * A token is accepted (not checked at synth time).
   *
   * @default - the sandbox's `imsOrgId`
   */
  readonly imsOrgId?: string;

  /**
   * Opt out of the `sts:ExternalId` condition: trust Adobe's account whatever org AEP assumes the
   * role for. Any AEP organization that learns the role ARN can then point its own destination at
   * your folder (confused deputy); only the role name's secrecy protects it. The stack synthesizes
   * with a warning. Only for apps that cannot know their org id at synth time.
   *
   * @default false
   */
  readonly allowAnyAdobeOrg?: boolean;

  /**
   * Add a stack output with the role ARN. Adobe asks to treat the role name like a password; with
   * the `sts:ExternalId` condition a leaked ARN no longer lets another AEP org use the role, but
   * the name still tells which account and role to target, so it is not exported unless you ask.
   *
   * @default false
   */
  readonly exposeRoleArnOutput?: boolean;
}

/** Options of {@link S3DestinationAuth.accessKeyFromSecret}. */
export interface AccessKeyFromSecretOptions {
  /**
   * JSON key of the access key id in the secret.
   *
   * @default 'accessKeyId'
   */
  readonly accessKeyIdField?: string;

  /**
   * JSON key of the secret access key in the secret.
   *
   * @default 'secretAccessKey'
   */
  readonly secretAccessKeyField?: string;

  /**
   * A non-secret value you change whenever you put a new key in the secret (the access key id,
   * a date, a counter), so that the next deployment pushes the new key to AEP.
   *
   * @default - none: a new key in the secret reaches AEP only when the connection is updated
   *            for another reason
   */
  readonly changeToken?: string;

  /**
   * The IAM user the key belongs to. When given, the library attaches the folder-scoped
   * permissions to it and exposes it as the destination's `grantee`.
   *
   * @default - the user's permissions are your responsibility
   */
  readonly user?: iam.IUser;
}

/**
 * How AEP authenticates to the bucket: an access key of an IAM user, or an IAM role that
 * Adobe's account assumes. Every variant gets exactly the permissions AEP needs on the folder.
 */
export abstract class S3DestinationAuth {
  /**
   * An IAM user created for AEP, with one access key stored in a Secrets Manager secret
   * (AEP auth spec `Access Key`). The key never appears in the template.
   */
  public static accessKey(options: AccessKeyAuthOptions = {}): S3DestinationAuth {
    validateSerial('auth.serial', options.serial);
    resolveKeyLifecycle('auth.keyLifecycle', options.keyLifecycle);
    return new ManagedKeyAuth(options);
  }

  /**
   * An IAM role trusted by Adobe's destinations account (AEP auth spec `Assumed Role`) for your
   * IMS organization only (`sts:ExternalId` = the org id, from `imsOrgId` here or on the sandbox),
   * with a name generated by CloudFormation. No access key is created and none leaves AWS.
   */
  public static assumedRole(options: AssumedRoleAuthOptions = {}): S3DestinationAuth {
    validateImsOrgId('auth.imsOrgId', options.imsOrgId);
    if (options.allowAnyAdobeOrg && options.imsOrgId !== undefined) {
      invalid('auth.imsOrgId', options.imsOrgId, 'contradicts allowAnyAdobeOrg: true (which drops the sts:ExternalId condition): '
        + 'remove allowAnyAdobeOrg to lock the role to this org');
    }
    validateEnum('auth.trustedPrincipal', options.trustedPrincipal, AdobeDestinationPrincipal, 'AdobeDestinationPrincipal');
    return new AssumedRoleAuth(options);
  }

  /**
   * An access key you manage, read from a Secrets Manager secret holding JSON
   * (`{"accessKeyId": "…", "secretAccessKey": "…"}` by default). The secret must live in the
   * stack's account and region (the handler reads it there); both are checked at synth time when
   * known.
   *
   * @param secret the secret holding the key
   */
  public static accessKeyFromSecret(secret: secretsmanager.ISecret, options: AccessKeyFromSecretOptions = {}): S3DestinationAuth {
    validateText('auth.accessKeyIdField', options.accessKeyIdField, 256);
    validateText('auth.secretAccessKeyField', options.secretAccessKeyField, 256);
    validateText('auth.changeToken', options.changeToken, 256);
    return new SecretKeyAuth(secret, options);
  }

  /**
   * Creates the AWS side of the credential and says how to register it.
   *
   * @internal
   */
  public abstract _bind(scope: Construct, options: DestinationAuthBindOptions): DestinationAuthBinding;
}

/** Which folder the destination's grants are limited to, in cdk-nag reasons. */
const FOLDER_KIND = 'export';

class ManagedKeyAuth extends S3DestinationAuth {
  constructor(private readonly options: AccessKeyAuthOptions) {
    super();
  }

  public _bind(scope: Construct, options: DestinationAuthBindOptions): DestinationAuthBinding {
    const key = new ManagedAccessKey(scope, 'AccessKey', {
      serial: this.options.serial,
      description: options.secretDescription,
      cleanupKeys: this.options.keyLifecycle !== undefined,
    });
    inlineFolderPolicy(key.user, options.grant, FOLDER_KIND);
    return {
      authSpecName: AUTH_SPEC.ACCESS_KEY,
      authSecret: key.secret,
      authSecretFields: accessKeyAuthFields(),
      // The key id is replaced with the key, so a rotation is an update of the connection.
      changeToken: key.accessKeyId,
      verifyAwsKey: true,
      grantee: key.user,
      user: key.user,
      credentialsSecret: key.secret,
      // The user carries its folder policy inline (the key needs the user anyway).
      dependables: [key.user],
      keyWatch: this.options.keyLifecycle && {
        lifecycle: resolveKeyLifecycle('auth.keyLifecycle', this.options.keyLifecycle)!,
        user: key.user,
        keySecret: key.secret,
        keySecretFields: accessKeyAuthFields(),
      },
    };
  }
}

/** JSON key of the role ARN in the assumed-role destination's secret. */
const ROLE_ARN_FIELD = 'roleArn';

/** Warning id of {@link AssumedRoleAuthOptions.allowAnyAdobeOrg}. */
const ANY_ADOBE_ORG_WARNING = 'cdk-aep-s3:destination-role-any-adobe-org';

class AssumedRoleAuth extends S3DestinationAuth {
  constructor(private readonly options: AssumedRoleAuthOptions) {
    super();
  }

  public _bind(scope: Construct, options: DestinationAuthBindOptions): DestinationAuthBinding {
    // Literal `aws` partition: Adobe's account exists only there.
    const account = AepIds.ADOBE_DESTINATIONS_ACCOUNT;
    const principalArn = this.options.trustedPrincipal === AdobeDestinationPrincipal.DESTINATIONS_USER
      ? `arn:aws:iam::${account}:user/destinations-adobe-user`
      : `arn:aws:iam::${account}:root`;
    const orgId = this.trustedOrg(scope, options);
    // No roleName: CloudFormation generates `<stack>-<logicalId>-<random suffix>`, so the name is
    // not guessable either (Adobe asks to keep it confidential). What locks the role to this
    // customer is the sts:ExternalId condition: since August 2026 AEP passes the IMS org id of
    // the connection's org on every AssumeRole (Adobe's August 2026 destinations release notes).
    const role = new iam.Role(scope, 'Role', {
      assumedBy: new iam.ArnPrincipal(principalArn),
      externalIds: orgId === undefined ? undefined : [orgId],
      description: 'Assumed by Adobe Experience Platform to write exports (cdk-aep-s3)',
      inlinePolicies: { [FOLDER_POLICY_NAME]: folderPolicyDocument(options.grant) },
    });
    suppressNag(role, [folderWildcardSuppression(FOLDER_KIND)]);
    if (this.options.exposeRoleArnOutput) {
      new CfnOutput(scope, 'RoleArn', {
        value: role.roleArn,
        description: 'IAM role AEP assumes for this destination (treat the name as confidential)',
      });
    }
    // AEP marks `s3Role` `format: password` and Adobe asks to keep the role name confidential.
    // As a custom-resource property the resolved ARN would be logged by the Provider framework,
    // so it travels like every other secret param: through a secret the handler reads.
    const roleSecret = ownedSecret(scope, 'RoleArnSecret', {
      description: 'IAM role ARN AEP assumes for this destination (cdk-aep-s3); Adobe asks to keep it confidential',
      secretObjectValue: { [ROLE_ARN_FIELD]: SecretValue.unsafePlainText(role.roleArn) },
      // The role's unique id (AROA…), not its name, which Adobe asks to keep confidential.
      uniqueSuffix: role.roleId,
    });
    suppressNag(roleSecret, [
      { id: 'AwsSolutions-SMG4', reason: 'Holds a role ARN, not a credential: nothing to rotate; it changes only when CloudFormation replaces the role.' },
    ]);
    return {
      authSpecName: AUTH_SPEC.ASSUMED_ROLE,
      authSecret: roleSecret,
      authSecretFields: { s3Role: ROLE_ARN_FIELD },
      verifyAwsKey: false,
      grantee: role,
      role,
      trustedImsOrgId: orgId,
      dependables: [role],
    };
  }

  /** The org the trust requires as sts:ExternalId; undefined only when opted out (with a warning). */
  private trustedOrg(scope: Construct, options: DestinationAuthBindOptions): string | undefined {
    if (this.options.allowAnyAdobeOrg) {
      Annotations.of(scope).addWarningV2(ANY_ADOBE_ORG_WARNING,
        'allowAnyAdobeOrg: true leaves the role without an sts:ExternalId condition: any AEP organization that learns the role ARN '
        + 'can point its own S3 destination at it and write, read or delete objects in the export folder (confused deputy). '
        + 'Set imsOrgId on the AepSandbox (or on S3DestinationAuth.assumedRole) and remove allowAnyAdobeOrg to allow only your org.');
      return undefined;
    }
    const orgId = this.options.imsOrgId ?? options.sandboxImsOrgId;
    if (orgId === undefined) {
      invalid('auth.imsOrgId', undefined, 'S3DestinationAuth.assumedRole() needs the Adobe IMS organization id (…@AdobeOrg) of the sandbox\'s '
        + 'credential: AEP sends it as sts:ExternalId when it assumes the role, and the role\'s trust requires it so that no other AEP '
        + 'organization can use the role (confused deputy). Set imsOrgId on the AepSandbox (the orgId of its credential) or '
        + 'S3DestinationAuth.assumedRole({ imsOrgId }), or accept the exposure with allowAnyAdobeOrg: true');
    }
    return orgId;
  }
}

class SecretKeyAuth extends S3DestinationAuth {
  constructor(private readonly secret: secretsmanager.ISecret, private readonly options: AccessKeyFromSecretOptions) {
    super();
  }

  public _bind(scope: Construct, options: DestinationAuthBindOptions): DestinationAuthBinding {
    checkSecretReadableFrom(scope, this.secret, 'auth (S3DestinationAuth.accessKeyFromSecret secret)', 'the access key');
    const user = this.options.user;
    // An imported user: its folder grant is a policy resource of its own.
    const policy = user ? folderPolicy(scope, 'Policy', options.grant, { users: [user] }, FOLDER_KIND) : undefined;
    return {
      authSpecName: AUTH_SPEC.ACCESS_KEY,
      authSecret: this.secret,
      authSecretFields: accessKeyAuthFields(
        this.options.accessKeyIdField ?? ACCESS_KEY_FIELDS.ACCESS_KEY_ID,
        this.options.secretAccessKeyField ?? ACCESS_KEY_FIELDS.SECRET_ACCESS_KEY,
      ),
      changeToken: this.options.changeToken,
      verifyAwsKey: true,
      grantee: user,
      user,
      credentialsSecret: this.secret,
      dependables: policy ? [policy] : [],
    };
  }
}
