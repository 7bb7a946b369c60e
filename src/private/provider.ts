import { ArnFormat, Aws, CustomResource, Duration, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, IConstruct } from 'constructs';
import { DefaultEndpoints, encodeAllowedEndpoints, type EndpointPair, HandlerEnvironment, RemovalPolicies } from './contract';
import { lambdaIdentity } from './lambda-identity';
import { PINNED_RUNTIME_REASON, suppressNag } from './nag';
import { isOwnedSecretOf, OWNED_SECRET_OWNER_TAG, ownedSecretPrefix } from './owned-secret';
import { watchResourceLimit } from './resource-limit';
import { sandboxProperties } from './sandbox-properties';
import { secretReadPolicy } from './secret-grant';
import { validateEnum } from './validation';
import type { AepSandbox } from '../aep-sandbox';
import { AepFunction } from '../handler/aep-function';

/** What every AEP custom resource needs. */
export interface AepResourceOptions {
  /** One of the contract's `ResourceTypes`. */
  readonly resourceType: string;
  /** Where and as whom the handler calls AEP. */
  readonly sandbox: AepSandbox;
  /** Secrets the handler must read for this resource, besides the sandbox credential. */
  readonly secrets?: secretsmanager.ISecret[];
  /** The resource's own properties (contract names). */
  readonly properties: Record<string, unknown>;
}

/** The contract value for a removal policy: only RETAIN keeps the AEP resource. */
export function removalPolicyProperty(policy?: RemovalPolicy): string {
  return isRetain(policy) ? RemovalPolicies.RETAIN : RemovalPolicies.DELETE;
}

/** RETAIN and RETAIN_ON_UPDATE_OR_DELETE both keep what a deleted resource stood for. */
export function isRetain(policy?: RemovalPolicy): boolean {
  // From JavaScript a plain string is accepted by the types; 'RETAIN' (not 'retain') would
  // otherwise silently mean DELETE and remove the AEP objects with the stack.
  validateEnum('removalPolicy', policy, RemovalPolicy as unknown as Record<string, string>, 'RemovalPolicy');
  return policy === RemovalPolicy.RETAIN || policy === RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE;
}

/** Name of the handler role's inline policy on the secrets the library creates in its stack. */
export const OWNED_SECRETS_POLICY_NAME = 'ReadOwnedSecrets';

/**
 * Adobe's own hosts, always allowed: the credential belongs there, and a stack moving a sandbox
 * between production and stage must still be able to roll back or clean up with the old ones
 * (CloudFormation runs those events before it restores or after it replaced the function's
 * environment).
 */
const ADOBE_ENDPOINTS: EndpointPair[] = [
  [DefaultEndpoints.FLOW_SERVICE_URL, DefaultEndpoints.IMS_URL],
  [DefaultEndpoints.FLOW_SERVICE_STAGE_URL, DefaultEndpoints.IMS_STAGE_URL],
];

/** Construct id of the per-stack singleton (one handler for every AEP resource in a stack). */
const SINGLETON_ID = 'CdkAepS3Provider';

/** The handler's own Lambda timeout: retries, key probes and IMS calls all fit inside it. */
export const HANDLER_TIMEOUT = Duration.minutes(5);

/** How long CloudFormation waits for one custom resource before failing it. */
export const CUSTOM_RESOURCE_SERVICE_TIMEOUT = Duration.minutes(10);

/**
 * The per-stack custom-resource provider: ONE onEvent Lambda for every AEP resource type, its
 * explicit log group, and a role that can read only the secrets connections hand to it.
 *
 * Internal on purpose (like pepperize/cdk-organizations): users never wire providers.
 */
export class AepProvider extends Construct {
  /** Returns the stack's provider, creating it on first use. */
  public static of(scope: IConstruct): AepProvider {
    const stack = Stack.of(scope);
    const existing = stack.node.tryFindChild(SINGLETON_ID) as AepProvider | undefined;
    return existing ?? new AepProvider(stack, SINGLETON_ID);
  }

  /** Token used as `ServiceToken` by every AEP custom resource in the stack. */
  public readonly serviceToken: string;
  /** The onEvent handler (also the code asset the refresh function reuses). */
  public readonly onEventFunction: lambda.Function;
  /** The handler's role. */
  public readonly role: iam.Role;
  /** The handler's log group. */
  public readonly logGroup: logs.LogGroup;
  /** Endpoint pairs of the sandboxes whose resources this provider serves. */
  private readonly endpoints: EndpointPair[] = [];

  private constructor(scope: Construct, id: string) {
    super(scope, id);

    // Secrets the library creates in this stack: one constant inline statement on their name
    // prefix (see ownedSecret). Constant, so CloudFormation never changes it while the stack
    // exists: it is there before the first custom resource runs and until the last one is deleted.
    // The prefix is the DEPLOYED stack's name and the tag its id, both resolved by CloudFormation:
    // one template deployed under several names gives each copy its own secrets, and a secret
    // under the prefix that this deployment did not create (made by hand, or kept by a RETAIN of
    // an earlier stack of the same name) is not readable. GetSecretValue only: the handler never
    // describes a secret.
    // Other secrets: the per-secret-set policies of addResource; never the default policy.
    const stack = Stack.of(this);
    watchResourceLimit(stack);
    const ownedSecrets = new iam.PolicyDocument({
      statements: [new iam.PolicyStatement({
        sid: 'ReadOwnedSecrets',
        actions: ['secretsmanager:GetSecretValue'],
        resources: [stack.formatArn({
          service: 'secretsmanager',
          resource: 'secret',
          resourceName: `${ownedSecretPrefix()}*`,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        })],
        conditions: { StringEquals: { [`aws:ResourceTag/${OWNED_SECRET_OWNER_TAG}`]: Aws.STACK_ID } },
      })],
    });
    const identity = lambdaIdentity(this, { role: 'HandlerRole', logGroup: 'HandlerLogs' }, 'cdk-aep-s3 custom-resource handler', {
      [OWNED_SECRETS_POLICY_NAME]: ownedSecrets,
    });
    this.role = identity.role;
    this.logGroup = identity.logGroup;

    this.onEventFunction = new AepFunction(this, 'OnEvent', {
      description: 'cdk-aep-s3: registers AEP Flow Service connections',
      role: this.role,
      timeout: HANDLER_TIMEOUT,
      memorySize: 256,
      logGroup: this.logGroup,
      environment: {
        // Every sandbox of the stack registers its endpoints through addResource; the list is
        // complete only at synth, hence lazy.
        [HandlerEnvironment.ALLOWED_ENDPOINTS]: Lazy.string({ produce: () => encodeAllowedEndpoints([...ADOBE_ENDPOINTS, ...this.endpoints]) }),
      },
    });

    const frameworkLogs = new logs.LogGroup(this, 'FrameworkLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
    });
    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: this.onEventFunction,
      logGroup: frameworkLogs,
    });
    this.serviceToken = provider.serviceToken;

    suppressNag(this.onEventFunction, [{ id: 'AwsSolutions-L1', reason: PINNED_RUNTIME_REASON }]);
    suppressNag(this.role, [
      {
        id: 'AwsSolutions-IAM5',
        reason: 'logs:* is scoped to the handler\'s own log group (the :* suffix covers its log streams); the secret read '
          + '(GetSecretValue only) ends in /* because it is the name prefix cdk-aep-s3/<deployed stack name>/ under which the '
          + 'library creates the access-key and role-ARN secrets of this stack\'s connections, and a condition limits it to '
          + 'secrets tagged with this deployment\'s stack id, which only those secrets carry.',
      },
    ]);
    suppressNag(provider, [
      { id: 'AwsSolutions-IAM4', reason: 'The aws-cdk-lib Provider framework function uses AWSLambdaBasicExecutionRole; it only writes its own logs.' },
      { id: 'AwsSolutions-IAM5', reason: 'The Provider framework may invoke every version of the onEvent handler (function ARN + :*).' },
      { id: 'AwsSolutions-L1', reason: 'The Provider framework function runtime is chosen by aws-cdk-lib.' },
    ]);
  }

  /**
   * Adds an AEP custom resource served by this provider: sandbox properties, a service timeout,
   * and read access to its secrets, granted by a policy it depends on (so the grant exists
   * before CloudFormation runs it and outlives its last Delete), except for secrets the library
   * created in this stack, which the role's constant prefix statement already covers.
   */
  public addResource(scope: Construct, id: string, options: AepResourceOptions): CustomResource {
    this.allowEndpoints(options.sandbox);
    // Secrets this stack's library constructs created are read through the role's constant
    // prefix statement; the CR reaches the role through its ServiceToken (Provider framework
    // function -> onEvent function -> role), so CloudFormation orders them the same way.
    const stack = Stack.of(this);
    const others = (options.secrets ?? []).filter((s) => !isOwnedSecretOf(s, stack));
    const grant = this.secretReadPolicy([options.sandbox.credentials, ...others]);
    const resource = new CustomResource(scope, id, {
      serviceToken: this.serviceToken,
      resourceType: options.resourceType,
      serviceTimeout: CUSTOM_RESOURCE_SERVICE_TIMEOUT,
      properties: { ...sandboxProperties(options.sandbox), ...options.properties },
    });
    // Created before the resource's Create/Update, deleted only after its (cleanup) Delete.
    resource.node.addDependency(grant);
    return resource;
  }

  /** Lets the handler call `sandbox`'s endpoints (and only the endpoints of sandboxes added so). */
  public allowEndpoints(sandbox: AepSandbox): void {
    this.endpoints.push([sandbox.endpoints.flowServiceUrl, sandbox.endpoints.imsUrl]);
  }

  /**
   * The handler's policy for reading exactly `secrets` (see {@link secretReadPolicy}): one per
   * distinct set, its logical id changing with the set, never the role's default policy.
   */
  public secretReadPolicy(secrets: secretsmanager.ISecret[]): iam.Policy {
    return secretReadPolicy(this, this.role, secrets);
  }
}
