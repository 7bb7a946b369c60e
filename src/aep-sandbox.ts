import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { IConstruct } from 'constructs';
import { DefaultEndpoints } from './private/contract';
import { checkSecretReadableFrom } from './private/secret-location';
import { validateEndpointUrl, validateImsOrgId, validateSandboxName } from './private/validation';

/** Options for {@link AepEndpoints.custom}. */
export interface CustomAepEndpointsOptions {
  /**
   * Flow Service base URL, up to and including `/data/foundation/flowservice`.
   */
  readonly flowServiceUrl: string;

  /**
   * Adobe IMS base URL; the handler appends `/ims/token/v3`.
   */
  readonly imsUrl: string;
}

/**
 * Where the custom-resource handler reaches Adobe: production, stage, or custom hosts
 * (a proxy, or a local stand-in in tests).
 */
export class AepEndpoints {
  /** Adobe's production hosts (`platform.adobe.io`, `ims-na1.adobelogin.com`). */
  public static production(): AepEndpoints {
    return new AepEndpoints(DefaultEndpoints.FLOW_SERVICE_URL, DefaultEndpoints.IMS_URL);
  }

  /** Adobe's stage hosts (`platform-stage.adobe.io`, `ims-na1-stg1.adobelogin.com`). */
  public static stage(): AepEndpoints {
    return new AepEndpoints(DefaultEndpoints.FLOW_SERVICE_STAGE_URL, DefaultEndpoints.IMS_STAGE_URL);
  }

  /** Any other hosts. Must be https (plain http only for loopback test servers). */
  public static custom(options: CustomAepEndpointsOptions): AepEndpoints {
    validateEndpointUrl('endpoints.flowServiceUrl', options.flowServiceUrl);
    validateEndpointUrl('endpoints.imsUrl', options.imsUrl);
    return new AepEndpoints(options.flowServiceUrl.replace(/\/+$/, ''), options.imsUrl.replace(/\/+$/, ''));
  }

  /** Flow Service base URL. */
  public readonly flowServiceUrl: string;
  /** IMS base URL. */
  public readonly imsUrl: string;

  private constructor(flowServiceUrl: string, imsUrl: string) {
    this.flowServiceUrl = flowServiceUrl;
    this.imsUrl = imsUrl;
  }
}

/** Properties of an {@link AepSandbox}. */
export interface AepSandboxProps {
  /**
   * Secrets Manager secret holding the Adobe Developer Console OAuth Server-to-Server
   * credential as JSON: `{ "clientId": "…", "clientSecret": "…", "orgId": "…@AdobeOrg",
   * "scopes": "optional,comma,separated" }`. Only its ARN reaches the template; the handler
   * reads the value at deploy time.
   *
   * The secret must live in the account and region of the stacks that use it: the handler calls
   * Secrets Manager in its own region (replicate the secret there otherwise) and is granted access
   * in its own account. Both are checked at synth time when known.
   * Change in AEP: none; dataflows: untouched.
   */
  readonly credentials: secretsmanager.ISecret;

  /**
   * AEP sandbox name, lowercase (sent as `x-sandbox-name`).
   * Change in AEP: replaces the AEP object; dataflows: every connection and dataflow is made again in the new sandbox; the old sandbox's are deleted.
   *
   * @default 'prod'
   */
  readonly sandboxName?: string;

  /**
   * Adobe hosts to call.
   * Change in AEP: replaces the AEP object; dataflows: every connection and dataflow is made again behind the new endpoints; the old ones are deleted.
   *
   * @default AepEndpoints.production()
   */
  readonly endpoints?: AepEndpoints;

  /**
   * The Adobe IMS organization id of the `credentials` (its `orgId`, e.g.
   * `ABC123DEF456@AdobeOrg`; not a secret). AEP sends it as `sts:ExternalId` whenever it assumes
   * an S3 destination role, so `S3DestinationAuth.assumedRole()` destinations of this sandbox
   * lock their role's trust to it, and the deploy checks that the credential belongs to it.
   * A token is accepted (not checked at synth time).
   *
   * @default - none: assumed-role destinations must set `AssumedRoleAuthOptions.imsOrgId`
   */
  readonly imsOrgId?: string;
}

/**
 * An AEP sandbox and the API credential used to manage connections in it.
 *
 * Define it once and pass it to every destination and source in the app.
 */
export class AepSandbox {
  /** The OAuth Server-to-Server credential secret. */
  public readonly credentials: secretsmanager.ISecret;
  /** The lowercase sandbox name. */
  public readonly sandboxName: string;
  /** The Adobe hosts the handler calls. */
  public readonly endpoints: AepEndpoints;
  /** The IMS organization id of the credential, when given. */
  public readonly imsOrgId?: string;

  constructor(props: AepSandboxProps) {
    validateSandboxName('sandboxName', props.sandboxName);
    validateImsOrgId('imsOrgId', props.imsOrgId);
    this.credentials = props.credentials;
    this.sandboxName = props.sandboxName ?? 'prod';
    this.endpoints = props.endpoints ?? AepEndpoints.production();
    this.imsOrgId = props.imsOrgId;
  }

  /**
   * Checks at synth time that functions in `scope`'s stack can read the credential secret, and
   * says what to do otherwise. Unknown regions or accounts (environment-agnostic stacks, token
   * ARNs) are not checked.
   *
   * @internal
   */
  public _checkReadableFrom(scope: IConstruct): void {
    checkSecretReadableFrom(scope, this.credentials, 'credentials', 'the AEP credential');
  }
}

