/**
 * A local stand-in for the AWS APIs the handler and the doctor command call: Secrets Manager
 * (JSON 1.1 protocol), STS, CloudFormation `DescribeStacks` / `ListStackResources` and IAM
 * `GetRole` (Query protocol, XML), S3 `ListObjectsV2`. Real AWS SDK v3 clients talk to it through
 * an endpoint override (`AWS_ENDPOINT_URL_SECRETS_MANAGER` / `AWS_ENDPOINT_URL_STS` /
 * `AWS_ENDPOINT_URL_CLOUDFORMATION` / `AWS_ENDPOINT_URL_IAM` or the client `endpoint` option), and
 * every request must be SigV4-signed with a key the stand-in knows, like on AWS.
 */
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import { fakeAccessKeyId, fakeSecretAccessKey, fakeSessionToken } from './fake-credentials';
import { closeServer, header, listen, LOOPBACK, readBody, send, sendJson } from './http';
import { parseSigV4Authorization, verifySigV4 } from './sigv4';

/** Account every stand-in identity and secret belongs to. */
export const AWS_TEST_ACCOUNT = '123456789012';

/** Options of {@link AwsStandIn.start}. */
export interface AwsStandInOptions {
  /** Region in ARNs and {@link AwsStandIn.env} (default `us-east-1`). */
  readonly region?: string;
  /** Receives one line per call, without secret values (default: discard). */
  readonly log?: (line: string) => void;
  /** Port to bind on 127.0.0.1 (default 0 = ephemeral). */
  readonly port?: number;
}

/** A long-term IAM user access key to accept. */
export interface AccessKeyRegistration {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** IAM user name for GetCallerIdentity (default `aep-s3-user`). */
  readonly userName?: string;
  /**
   * Simulates IAM eventual consistency: the first N STS calls signed with this key fail with
   * 403 `InvalidClientTokenId`, as a freshly created access key does for a few seconds.
   */
  readonly notValidForNextCalls?: number;
  /** `Inactive` keys are refused like deleted ones (default `Active`). */
  readonly status?: 'Active' | 'Inactive';
  /** When IAM created the key (epoch ms; default now): what `ListAccessKeys` reports as `CreateDate`. */
  readonly createDate?: number;
}

/** IAM's limit of access keys per user (`CreateAccessKey` answers `LimitExceeded` beyond it). */
export const ACCESS_KEYS_PER_USER = 2;

/** What an {@link AwsAuthorizer} is asked: may this principal call this action on this resource? */
export interface AuthorizationRequest {
  /** The caller as AWS reports it: `arn:aws:iam::<acct>:user/<name>` or `arn:aws:sts::<acct>:assumed-role/<role>/<session>`. */
  readonly principalArn: string;
  /** `service:Action`, e.g. `secretsmanager:GetSecretValue`. */
  readonly action: string;
  /** The resource ARN the action is evaluated on. */
  readonly resourceArn: string;
  /** Request context keys (`aws:SecureTransport`, …). */
  readonly context: Record<string, string>;
}

/** The IAM decision for one call (an explicit deny words AWS's message differently). */
export type AuthorizationDecision = 'allowed' | 'denied' | 'explicitly-denied';

/** Decides every call that AWS authorizes with IAM policies (see {@link AwsStandIn.setAuthorizer}). */
export type AwsAuthorizer = (request: AuthorizationRequest) => AuthorizationDecision | Promise<AuthorizationDecision>;

/** A temporary or long-term credential triple. */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** One call as recorded by the stand-in. Never contains secret values. */
export interface AwsCall {
  readonly service: 'secretsmanager' | 'sts' | 's3' | 'cloudformation' | 'iam' | 'unknown';
  readonly action: string;
  /** Access key id from the SigV4 credential scope (not a secret). */
  readonly accessKeyId?: string;
  /** Region from the SigV4 credential scope: the region whose endpoint the client addressed. */
  readonly region?: string;
  /** `SecretId`/`Name` for Secrets Manager calls. */
  readonly secretId?: string;
  status: number;
  /** AWS error code when the call failed (`InvalidClientTokenId`, `ResourceNotFoundException`, …). */
  errorCode?: string;
}

interface Identity {
  readonly secretAccessKey: string;
  readonly kind: 'user' | 'session' | 'role-session';
  readonly arn: string;
  readonly userId: string;
  readonly sessionToken?: string;
  readonly expiresAt?: number;
  notValidFor: number;
  /** For session credentials: the long-term key they were issued to. */
  readonly parentKeyId?: string;
  inactive?: boolean;
  /** For IAM user keys: the user and when the key was created (epoch ms). */
  readonly userName?: string;
  createDate?: number;
}

interface StoredSecret {
  readonly arn: string;
  readonly name: string;
  readonly createdDate: number;
  description?: string;
  secretString: string;
  versionId: string;
  lastChangedDate: number;
  /** Tags (CreateSecret `Tags`, TagResource, UntagResource); IAM sees them as `aws:ResourceTag/<key>`. */
  tags: Record<string, string>;
}

/** A CloudFormation stack the stand-in knows (see {@link AwsStandIn.putStack}). */
export interface StandInStack {
  readonly stackName: string;
  /** `arn:aws:cloudformation:<region>:<account>:stack/<name>/<uuid>`. */
  readonly stackId: string;
  /** e.g. `CREATE_COMPLETE`, `UPDATE_COMPLETE`, `DELETE_COMPLETE`. */
  stackStatus: string;
  readonly creationTime: number;
  /** What `ListStackResources` answers (see {@link AwsStandIn.putStack}). */
  readonly resources: readonly StandInStackResource[];
}

/** One resource of a {@link StandInStack}. */
export interface StandInStackResource {
  readonly logicalId: string;
  /** e.g. `AWS::IAM::Role`. */
  readonly type: string;
  /** For a role: its name (what `iam:GetRole` takes). */
  readonly physicalId: string;
}

/** An IAM role the stand-in knows (see {@link AwsStandIn.putRole}). */
interface StandInRole {
  readonly roleName: string;
  readonly arn: string;
  readonly roleId: string;
  /** The trust policy as a JSON object. */
  readonly trust: unknown;
  readonly createDate: number;
}

/** An AWS error in the shape of the protocol it is sent with. */
/**
 * A failure of AWS itself (throttling, an outage) answered instead of a call, in the service's own
 * error format, before authentication or authorization: what a caller sees when the service, not
 * its request, is at fault.
 */
export interface AwsFault {
  readonly service: 'secretsmanager' | 'sts' | 'cloudformation' | 'iam' | 's3';
  /** Only this action (e.g. `GetSecretValue`); default every action of the service. */
  readonly action?: string;
  /** HTTP status: 400 for throttling (`ThrottlingException`, `Throttling`), 5xx for an outage. */
  readonly status: number;
  readonly code: string;
  readonly message?: string;
  /** How many calls it answers (default: every call until {@link AwsStandIn.reset}). */
  readonly times?: number;
}

class AwsError extends Error {
  constructor(
    readonly status: number, readonly code: string, message: string, readonly type: 'Sender' | 'Receiver' = 'Sender',
    /** Response headers the error carries (S3's `x-amz-bucket-region`). */
    readonly headers: Record<string, string> = {},
    /** Extra XML elements of an S3 error body (`<Endpoint>`, `<Bucket>`). */
    readonly s3Detail = '',
  ) {
    super(message);
  }
}

const STS_NS = 'https://sts.amazonaws.com/doc/2011-06-15/';
const CFN_NS = 'http://cloudformation.amazonaws.com/doc/2010-05-15/';
const IAM_NS = 'https://iam.amazonaws.com/doc/2010-05-08/';

/** Secrets Manager + STS stand-in. Create with {@link AwsStandIn.start}; always {@link close}. */
export class AwsStandIn {
  /** Starts the server on 127.0.0.1. */
  public static async start(options: AwsStandInOptions = {}): Promise<AwsStandIn> {
    const standIn = new AwsStandIn(options);
    standIn.port = await listen(standIn.server, options.port ?? 0);
    return standIn;
  }

  /** Every call since start or the last {@link reset}, without secret values. */
  public readonly calls: AwsCall[] = [];
  public readonly region: string;
  public readonly accountId = AWS_TEST_ACCOUNT;
  /**
   * The built-in "Lambda execution role" identity returned by {@link env}: temporary role
   * credentials, so like on Lambda it can read secrets but cannot call GetSessionToken.
   */
  public readonly lambdaCredentials: Required<AwsCredentials> & { readonly arn: string };

  private readonly server: http.Server;
  private readonly identities = new Map<string, Identity>();
  private readonly secrets = new Map<string, StoredSecret>();
  private readonly log: (line: string) => void;
  private port = 0;
  private sessionTokenCount = 0;
  private authorizer?: AwsAuthorizer;
  private readonly deletedSecrets = new Set<string>();
  private readonly deniedBuckets = new Set<string>();
  /** Buckets declared in a region (see {@link putBucket}); any other bucket answers in every region. */
  private readonly bucketRegions = new Map<string, string>();
  /** Every stack ever put, deleted ones included (DescribeStacks by ARN still finds those). */
  private readonly stacks: StandInStack[] = [];
  private readonly roles = new Map<string, StandInRole>();
  /** IAM users that ListAccessKeys knows (every user a key was registered for, see {@link iamAccessKeys}). */
  private readonly iamUsers = new Set<string>();
  /** Tags of IAM users (`ListUserTags`). */
  private readonly userTags = new Map<string, Record<string, string>>();
  /** STS refusals of a key made by `CreateAccessKey` before it works (IAM eventual consistency). */
  public newKeyPropagationFailures = 0;
  /** Every key `CreateAccessKey` issued (tests look for their secrets in output). */
  public readonly issuedKeys: AwsCredentials[] = [];
  private readonly faults: Array<{ fault: AwsFault; left: number }> = [];

  private constructor(options: AwsStandInOptions) {
    this.region = options.region ?? 'us-east-1';
    this.log = options.log ?? (() => undefined);
    this.lambdaCredentials = {
      accessKeyId: fakeAccessKeyId('ASIA'),
      secretAccessKey: fakeSecretAccessKey(),
      sessionToken: fakeSessionToken(),
      arn: `arn:aws:sts::${AWS_TEST_ACCOUNT}:assumed-role/aep-handler-role/aep-handler`,
    };
    this.registerLambdaIdentity();
    this.server = http.createServer((req, res) => {
      res.on('error', () => undefined);
      this.handle(req, res).catch((err: unknown) => {
        this.log(`[aws] internal error: ${err instanceof Error ? err.message : String(err)}`);
        sendJson(res, 500, { __type: 'InternalFailure', message: 'stand-in internal error' });
      });
    });
  }

  /** `http://127.0.0.1:<port>` — the endpoint for both services. */
  public get url(): string {
    return `http://${LOOPBACK}:${this.port}`;
  }

  /** How many GetSessionToken calls succeeded. */
  public get sessionTokensIssued(): number {
    return this.sessionTokenCount;
  }

  /**
   * Environment for code under test (a handler run in-process or as a child process): endpoints,
   * region and the Lambda-role credentials. `AWS_ENDPOINT_URL` also points here so that a call
   * to any other service fails loudly at the stand-in instead of trying to reach AWS, and IMDS
   * is disabled for the same reason.
   */
  public env(): Record<string, string> {
    return {
      AWS_ENDPOINT_URL: this.url,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: this.url,
      AWS_ENDPOINT_URL_STS: this.url,
      AWS_ENDPOINT_URL_S3: this.url,
      AWS_ENDPOINT_URL_CLOUDFORMATION: this.url,
      AWS_ENDPOINT_URL_IAM: this.url,
      AWS_REGION: this.region,
      AWS_DEFAULT_REGION: this.region,
      AWS_ACCESS_KEY_ID: this.lambdaCredentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: this.lambdaCredentials.secretAccessKey,
      AWS_SESSION_TOKEN: this.lambdaCredentials.sessionToken,
      AWS_EC2_METADATA_DISABLED: 'true',
    };
  }

  /** Accepts a long-term IAM user key from now on. */
  public registerAccessKey(key: AccessKeyRegistration): void {
    const userName = key.userName ?? 'aep-s3-user';
    this.iamUsers.add(userName);
    this.identities.set(key.accessKeyId, {
      secretAccessKey: key.secretAccessKey,
      kind: 'user',
      arn: `arn:aws:iam::${AWS_TEST_ACCOUNT}:user/${userName}`,
      userId: fakeAccessKeyId('AIDA', `user:${userName}`),
      notValidFor: key.notValidForNextCalls ?? 0,
      inactive: key.status === 'Inactive',
      userName,
      createDate: key.createDate ?? Date.now(),
    });
  }

  /** The IAM user's access keys as `ListAccessKeys` reports them, oldest first. */
  public accessKeysOf(userName: string): Array<{ accessKeyId: string; status: 'Active' | 'Inactive'; createDate: number }> {
    return [...this.identities.entries()]
      .filter(([, i]) => i.kind === 'user' && i.userName === userName)
      .map(([accessKeyId, i]) => ({ accessKeyId, status: i.inactive ? 'Inactive' as const : 'Active' as const, createDate: i.createDate ?? 0 }))
      .sort((a, b) => a.createDate - b.createDate || (a.accessKeyId < b.accessKeyId ? -1 : 1));
  }

  /** Makes a key look created `createDate` (epoch ms) to `ListAccessKeys`: time passing, without waiting. */
  public setAccessKeyCreateDate(accessKeyId: string, createDate: number): void {
    const identity = this.identities.get(accessKeyId);
    if (!identity || identity.kind !== 'user') throw new Error(`no IAM user access key ${accessKeyId}`);
    identity.createDate = createDate;
  }

  /** `iam:UpdateAccessKey`: an `Inactive` key is refused (InvalidClientTokenId) until made `Active` again. */
  public setAccessKeyStatus(accessKeyId: string, status: 'Active' | 'Inactive'): void {
    const identity = this.identities.get(accessKeyId);
    if (!identity || identity.kind !== 'user') throw new Error(`no IAM user access key ${accessKeyId}`);
    identity.inactive = status === 'Inactive';
  }

  /** `iam:CreateUser` (CloudFormation's `AWS::IAM::User`): `ListAccessKeys` knows the user from now on. */
  public createUser(userName: string): void {
    this.iamUsers.add(userName);
  }

  /** The user's tags become exactly `tags` (`iam:TagUser` / `UntagUser`, as CloudFormation applies a template's `Tags`). */
  public tagUser(userName: string, tags: Record<string, string>): void {
    this.userTags.set(userName, { ...tags });
  }

  /**
   * `iam:DeleteUser`, as IAM answers it: refused with `DeleteConflict` while the user still has an
   * access key (CloudFormation's `AWS::IAM::User` delete removes policies and the login profile,
   * not keys it did not create); a user already gone counts as deleted.
   */
  public deleteUser(userName: string): void {
    if (this.accessKeysOf(userName).length) {
      throw new AwsError(409, 'DeleteConflict', 'Cannot delete entity, must delete access keys first.');
    }
    this.iamUsers.delete(userName);
    this.userTags.delete(userName);
  }

  /** Whether IAM knows the user (created, or holding a key, and not deleted). */
  public userExists(userName: string): boolean {
    return this.iamUsers.has(userName) || this.accessKeysOf(userName).length > 0;
  }

  /** `iam:DeleteAccessKey`: the key is refused from now on. */
  public deleteAccessKey(accessKeyId: string): void {
    const identity = this.identities.get(accessKeyId);
    if (identity?.kind === 'user') this.identities.delete(accessKeyId);
  }

  /** Whether requests signed with this access key (an IAM user's, or temporary credentials) would be authenticated right now. */
  public accessKeyWorks(accessKeyId: string): boolean {
    const identity = this.identities.get(accessKeyId);
    if (!identity || identity.inactive) return false;
    if (identity.kind === 'user') return true;
    // Temporary credentials: the same checks a signed request goes through.
    const expired = identity.expiresAt !== undefined && identity.expiresAt <= Date.now();
    return identity.kind === 'session' && !expired && (identity.parentKeyId === undefined || this.identities.has(identity.parentKeyId));
  }

  /**
   * Issues credentials of a role session, as Lambda does for a function's execution role
   * (`arn:aws:sts::<account>:assumed-role/<role>/<session>`). Deterministic for a given seed.
   */
  public registerRoleSession(options: { roleArn: string; sessionName: string; seed?: string }): Required<AwsCredentials> & { readonly arn: string } {
    const match = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(options.roleArn);
    if (!match) throw new Error(`not an IAM role ARN: ${options.roleArn}`);
    const seed = options.seed ?? `${options.roleArn}/${options.sessionName}`;
    const credentials = {
      accessKeyId: fakeAccessKeyId('ASIA', seed),
      secretAccessKey: fakeSecretAccessKey(seed),
      sessionToken: fakeSessionToken(),
      arn: `arn:aws:sts::${match[1]}:assumed-role/${match[2]}/${options.sessionName}`,
    };
    this.identities.set(credentials.accessKeyId, {
      secretAccessKey: credentials.secretAccessKey,
      sessionToken: credentials.sessionToken,
      kind: 'role-session',
      arn: credentials.arn,
      userId: `${fakeAccessKeyId('AROA', options.roleArn)}:${options.sessionName}`,
      notValidFor: 0,
    });
    return credentials;
  }

  /**
   * Routes every IAM-authorized call through `authorizer` (undefined: allow all, the default for
   * tests that do not model IAM). Authentication-only STS calls (GetCallerIdentity,
   * GetSessionToken) need no permission on AWS and are not asked about.
   */
  public setAuthorizer(authorizer: AwsAuthorizer | undefined): void {
    this.authorizer = authorizer;
  }

  /**
   * `secretsmanager:DeleteSecret` with the default recovery window, as CloudFormation deletes an
   * `AWS::SecretsManager::Secret`: reads fail with InvalidRequestException from now on.
   */
  public deleteSecret(nameOrArn: string): void {
    const secret = this.findSecret(nameOrArn);
    if (secret) this.deletedSecrets.add(secret.arn);
  }

  /** Creates and registers a fresh IAM user key (like `iam:CreateAccessKey`). */
  public createAccessKey(userName = 'aep-s3-user', options: { notValidForNextCalls?: number; seed?: string } = {}): AwsCredentials {
    const credentials = { accessKeyId: fakeAccessKeyId('AKIA', options.seed), secretAccessKey: fakeSecretAccessKey(options.seed) };
    this.registerAccessKey({ ...credentials, userName, notValidForNextCalls: options.notValidForNextCalls });
    return credentials;
  }

  /** Makes every temporary credential issued by GetSessionToken expired. */
  public expireSessionCredentials(): void {
    for (const [id, identity] of this.identities) {
      if (identity.kind === 'session') {
        this.identities.set(id, { ...identity, expiresAt: 0 });
      }
    }
  }

  /**
   * Creates or updates a secret and returns its ARN (`arn:aws:secretsmanager:<region>:<account>:
   * secret:<name>-AbCdEf`). Pass an ARN to control it exactly (e.g. to match a synthesized stack).
   */
  public putSecret(nameOrArn: string, secretString: string): string {
    const existing = this.findSecret(nameOrArn);
    if (existing) {
      existing.secretString = secretString;
      existing.versionId = randomUUID();
      existing.lastChangedDate = Date.now() / 1000;
      return existing.arn;
    }
    const isArn = nameOrArn.startsWith('arn:');
    if (isArn && !/^arn:aws[a-z-]*:secretsmanager:[^:]+:\d{12}:secret:.+$/.test(nameOrArn)) {
      throw new Error(`not a Secrets Manager secret ARN: ${nameOrArn}`);
    }
    const name = isArn ? nameOrArn.split(':secret:')[1].replace(/-[A-Za-z0-9]{6}$/, '') : nameOrArn;
    // The 6-character suffix AWS appends; derived from the name so ARNs are stable across runs.
    const arn = isArn ? nameOrArn : `arn:aws:secretsmanager:${this.region}:${AWS_TEST_ACCOUNT}:secret:${name}-${fakeSecretAccessKey(name).replace(/[/+]/g, 'x').substring(0, 6)}`;
    const now = Date.now() / 1000;
    this.secrets.set(arn, { arn, name, createdDate: now, lastChangedDate: now, secretString, versionId: randomUUID(), tags: {} });
    return arn;
  }

  /**
   * Sets a secret's tags: `merge` adds to them (TagResource), otherwise they become exactly `tags`
   * (what CloudFormation makes of an `AWS::SecretsManager::Secret`'s `Tags` on create and update).
   */
  public tagSecret(nameOrArn: string, tags: Record<string, string>, merge = false): void {
    const secret = this.findSecret(nameOrArn);
    if (!secret) throw new Error(`no secret ${nameOrArn}`);
    secret.tags = merge ? { ...secret.tags, ...tags } : { ...tags };
  }

  /** A secret's tags (test accessor), or undefined when there is no such secret. */
  public secretTags(nameOrArn: string): Record<string, string> | undefined {
    const secret = this.findSecret(nameOrArn);
    return secret && { ...secret.tags };
  }

  /** The current value of a secret (test accessor), or undefined. */
  public getSecret(nameOrArn: string): string | undefined {
    return this.findSecret(nameOrArn)?.secretString;
  }

  /**
   * Declares a CloudFormation stack in the stand-in's account and region (`CREATE_COMPLETE`
   * unless told otherwise). `stackId` defaults to a fresh ARN; putting a name whose live stack
   * has another id replaces it, as deleting and re-creating a stack does. Returns the stack id.
   */
  public putStack(stackName: string, options: { stackId?: string; stackStatus?: string; resources?: readonly StandInStackResource[] } = {}): string {
    const stackId = options.stackId ?? `arn:aws:cloudformation:${this.region}:${AWS_TEST_ACCOUNT}:stack/${stackName}/${randomUUID()}`;
    if (!/^arn:aws[a-z-]*:cloudformation:[^:]+:\d{12}:stack\/[^/]+\/[^/]+$/.test(stackId) || stackId.split('/')[1] !== stackName) {
      throw new Error(`not a stack ARN of ${stackName}: ${stackId}`);
    }
    const live = this.liveStack(stackName, stackRegion(stackId));
    if (live && live.stackId !== stackId) live.stackStatus = 'DELETE_COMPLETE';
    const existing = this.stacks.find((s) => s.stackId === stackId);
    if (existing) {
      existing.stackStatus = options.stackStatus ?? 'CREATE_COMPLETE';
      if (options.resources) Object.assign(existing, { resources: options.resources });
    } else {
      this.stacks.push({ stackName, stackId, stackStatus: options.stackStatus ?? 'CREATE_COMPLETE', creationTime: Date.now(), resources: options.resources ?? [] });
    }
    return stackId;
  }

  /**
   * Creates or replaces an IAM role with this trust policy (what `iam:GetRole` returns as
   * `AssumeRolePolicyDocument`, URL-encoded as AWS does). Returns the role ARN.
   */
  public putRole(roleName: string, trust: unknown): string {
    const arn = `arn:aws:iam::${AWS_TEST_ACCOUNT}:role/${roleName}`;
    this.roles.set(roleName, { roleName, arn, roleId: fakeAccessKeyId('AROA', arn), trust: JSON.parse(JSON.stringify(trust)), createDate: Date.now() });
    return arn;
  }

  /** Deletes the live stack of that name in `region` (default: the stand-in's): DescribeStacks by name no longer finds it. */
  public deleteStack(stackName: string, region = this.region): void {
    const live = this.liveStack(stackName, region);
    if (live) live.stackStatus = 'DELETE_COMPLETE';
  }

  /** Answers matching calls with `fault` (see {@link AwsFault}); they are still recorded in {@link calls}. */
  public inject(fault: AwsFault): void {
    this.faults.push({ fault, left: fault.times ?? Number.POSITIVE_INFINITY });
  }

  /** Forgets secrets, calls, registered keys, issued sessions and injected faults (the Lambda identity stays). */
  public reset(): void {
    this.calls.length = 0;
    this.faults.length = 0;
    this.secrets.clear();
    this.identities.clear();
    this.deletedSecrets.clear();
    this.deniedBuckets.clear();
    this.bucketRegions.clear();
    this.stacks.length = 0;
    this.roles.clear();
    this.iamUsers.clear();
    this.userTags.clear();
    this.newKeyPropagationFailures = 0;
    this.issuedKeys.length = 0;
    this.sessionTokenCount = 0;
    this.registerLambdaIdentity();
  }

  /** Stops the server. */
  public async close(): Promise<void> {
    await closeServer(this.server);
  }

  private registerLambdaIdentity(): void {
    this.identities.set(this.lambdaCredentials.accessKeyId, {
      secretAccessKey: this.lambdaCredentials.secretAccessKey,
      sessionToken: this.lambdaCredentials.sessionToken,
      kind: 'role-session',
      arn: this.lambdaCredentials.arn,
      userId: `${fakeAccessKeyId('AROA', 'lambda-role')}:aep-handler`,
      notValidFor: 0,
    });
  }

  /** IAM evaluation through the authorizer; a refusal in AWS's own words (JSON 1.1 services). */
  private async authorize(identity: Identity, action: string, resourceArn: string, resourceTags: Record<string, string> = {}): Promise<void> {
    if (!this.authorizer) return;
    // A call on an existing resource carries its tags as aws:ResourceTag/<key> (IAM's ABAC keys).
    const tagKeys = Object.fromEntries(Object.entries(resourceTags).map(([k, v]) => [`aws:ResourceTag/${k}`, v]));
    const decision = await this.authorizer({ principalArn: identity.arn, action, resourceArn, context: { 'aws:SecureTransport': 'true', ...tagKeys } });
    if (decision === 'allowed') return;
    const why = decision === 'explicitly-denied'
      ? 'with an explicit deny in an identity-based policy'
      : `because no identity-based policy allows the ${action} action`;
    throw new AwsError(400, 'AccessDeniedException', `User: ${identity.arn} is not authorized to perform: ${action} on resource: ${resourceArn} ${why}`);
  }

  /** The ARN a Secrets Manager call is authorized on: the secret's, or what its id names. */
  private secretResourceArn(secretId: unknown): string {
    if (typeof secretId !== 'string') return '*';
    const found = this.findSecret(secretId);
    if (found) return found.arn;
    return secretId.startsWith('arn:') ? secretId : `arn:aws:secretsmanager:${this.region}:${AWS_TEST_ACCOUNT}:secret:${secretId}`;
  }

  private findSecret(nameOrArn: string): StoredSecret | undefined {
    // A name, the full ARN, or a partial ARN (without the 6-character suffix), as Secrets Manager accepts.
    return this.secrets.get(nameOrArn)
      ?? [...this.secrets.values()].find((s) => s.name === nameOrArn || s.arn.replace(/-[A-Za-z0-9]{6}$/, '') === nameOrArn);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const body = await readBody(req);
    const target = header(req, 'x-amz-target');
    const form = new URLSearchParams(body);
    const auth = parseSigV4Authorization(header(req, 'authorization'));
    const s3 = auth?.service === 's3' && req.method === 'GET' && url.searchParams.get('list-type') === '2';
    // STS and CloudFormation share the Query protocol: the signature's credential scope names the service.
    const query = !s3 && !target && form.get('Action')
      ? (auth?.service === 'cloudformation' || auth?.service === 'iam' ? auth.service : 'sts') : undefined;
    const service: AwsCall['service'] = s3 ? 's3' : target?.startsWith('secretsmanager.') ? 'secretsmanager' : query ?? 'unknown';
    const action = s3 ? 'ListObjectsV2'
      : service === 'secretsmanager' ? target!.substring('secretsmanager.'.length) : form.get('Action') ?? target ?? `${req.method} ${url.pathname}`;
    const call: AwsCall = { service, action, accessKeyId: auth?.accessKeyId, region: auth?.region, status: 0 };
    this.calls.push(call);

    try {
      if (service === 'unknown') {
        throw new AwsError(400, 'UnknownOperationException', `AWS stand-in does not implement ${action} (only Secrets Manager, STS, CloudFormation DescribeStacks/ListStackResources, IAM GetRole and access keys, and S3 ListObjectsV2)`);
      }
      const injected = this.faults.find((f) => f.left > 0 && f.fault.service === service
        && (f.fault.action === undefined || f.fault.action === action));
      if (injected) {
        injected.left -= 1;
        const { status, code, message } = injected.fault;
        throw new AwsError(status, code, message ?? (status >= 500 ? 'Service unavailable' : 'Rate exceeded'), status >= 500 ? 'Receiver' : 'Sender');
      }
      const identity = await this.authenticate(service, req, url, body);
      if (service === 's3') {
        this.respond(res, call, 200, await this.listObjectsV2(identity, url, auth!.region), 'application/xml');
      } else if (service === 'sts') {
        this.respond(res, call, 200, this.sts(identity, form), 'text/xml');
      } else if (service === 'cloudformation') {
        this.respond(res, call, 200, await this.cloudFormation(identity, form, auth!.region), 'text/xml');
      } else if (service === 'iam') {
        this.respond(res, call, 200, await this.iam(identity, form), 'text/xml');
      } else {
        let input: Record<string, unknown>;
        try {
          input = JSON.parse(body || '{}');
        } catch {
          throw new AwsError(400, 'SerializationException', 'request body is not valid JSON');
        }
        const secretId = input.SecretId ?? input.Name;
        if (typeof secretId === 'string') {
          Object.assign(call, { secretId });
        }
        const existing = action !== 'CreateSecret' && typeof secretId === 'string' ? this.findSecret(secretId) : undefined;
        await this.authorize(identity, `secretsmanager:${action}`, this.secretResourceArn(secretId), existing?.tags);
        this.respond(res, call, 200, JSON.stringify(this.secretsManager(action, input)), 'application/x-amz-json-1.1');
      }
    } catch (err) {
      if (!(err instanceof AwsError)) {
        throw err;
      }
      call.errorCode = err.code;
      if (service === 's3') {
        const xml = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${err.code}</Code><Message>${escapeXml(err.message)}</Message>`
          + `${err.s3Detail}<RequestId>${randomUUID()}</RequestId></Error>`;
        this.respond(res, call, err.status, xml, 'application/xml', err.headers);
      } else if (service === 'sts' || service === 'cloudformation' || service === 'iam') {
        const xml = `<ErrorResponse xmlns="${service === 'sts' ? STS_NS : service === 'iam' ? IAM_NS : CFN_NS}"><Error><Type>${err.type}</Type><Code>${err.code}</Code>`
          + `<Message>${escapeXml(err.message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
        this.respond(res, call, err.status, xml, 'text/xml');
      } else {
        this.respond(res, call, err.status, JSON.stringify({ __type: err.code, message: err.message }), 'application/x-amz-json-1.1', {
          'x-amzn-errortype': err.code,
        });
      }
    }
  }

  /** SigV4 authentication against the registered keys; errors mirror each service's. */
  private async authenticate(service: 'sts' | 'secretsmanager' | 's3' | 'cloudformation' | 'iam', req: http.IncomingMessage, url: URL, body: string): Promise<Identity> {
    // CloudFormation and IAM answer authentication failures like STS (Query protocol, 403).
    const sts = service === 'sts' || service === 'cloudformation' || service === 'iam';
    const invalidToken = () => (service === 's3'
      ? new AwsError(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.')
      : sts
        ? new AwsError(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.')
        : new AwsError(400, 'UnrecognizedClientException', 'The security token included in the request is invalid.'));
    const auth = parseSigV4Authorization(header(req, 'authorization'));
    if (!auth) {
      throw new AwsError(sts ? 403 : 400, sts ? 'MissingAuthenticationToken' : 'MissingAuthenticationTokenException', 'Request is missing Authentication Token');
    }
    const identity = this.identities.get(auth.accessKeyId);
    if (!identity || identity.inactive) {
      throw invalidToken();
    }
    if (identity.parentKeyId !== undefined && !this.identities.has(identity.parentKeyId)) {
      // Session credentials of a deleted access key stop working with it.
      throw invalidToken();
    }
    if ((service === 'sts' || service === 's3') && identity.notValidFor > 0) {
      identity.notValidFor -= 1;
      throw invalidToken();
    }
    if (identity.sessionToken !== undefined && header(req, 'x-amz-security-token') !== identity.sessionToken) {
      throw invalidToken();
    }
    if (identity.expiresAt !== undefined && identity.expiresAt <= Date.now()) {
      throw sts
        ? new AwsError(403, 'ExpiredToken', 'The security token included in the request is expired')
        : new AwsError(400, 'ExpiredTokenException', 'The security token included in the request is expired');
    }
    const signatureOk = auth.service === service && await verifySigV4({ req, url, body }, auth, identity.secretAccessKey);
    if (!signatureOk) {
      throw sts
        ? new AwsError(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.')
        : new AwsError(400, 'InvalidSignatureException', 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.');
    }
    return identity;
  }

  // ---------------------------------------------------------------- S3 ListObjectsV2 (REST, path style)

  /**
   * Whether `principalArn` may list `bucket` under `prefix` (s3:ListBucket on the bucket with the
   * `s3:prefix` condition key), as the authorizer decides; allowed when no authorizer is set unless
   * {@link denyS3Listing} named the bucket. The AEP stand-in's explore asks this too.
   */
  public async mayList(principalArn: string, bucket: string, prefix: string): Promise<AuthorizationDecision> {
    if (this.deniedBuckets.has(bucket)) return 'denied';
    if (!this.authorizer) return 'allowed';
    return this.authorizer({
      principalArn,
      action: 's3:ListBucket',
      resourceArn: `arn:aws:s3:::${bucket}`,
      context: { 'aws:SecureTransport': 'true', 's3:prefix': prefix },
    });
  }

  /** The ARN AWS reports for a registered access key (long-term or session), undefined when unknown. */
  public principalOfKey(accessKeyId: string): string | undefined {
    const identity = this.identities.get(accessKeyId);
    return identity && !identity.inactive ? identity.arn : undefined;
  }

  /**
   * Declares `bucket` to live in `region`. A request addressed to another region's endpoint (the
   * SigV4 credential scope says which: a client signs for the region whose endpoint it calls) is
   * answered as S3 does, 301 `PermanentRedirect` with the bucket's region in `x-amz-bucket-region`
   * and no listing; a bucket never declared answers in every region.
   */
  public putBucket(bucket: string, options: { region: string }): void {
    this.bucketRegions.set(bucket, options.region);
  }

  /** Without an authorizer, makes every listing of `bucket` AccessDenied (e.g. a bucket policy not attached). */
  public denyS3Listing(bucket: string): void {
    this.deniedBuckets.add(bucket);
  }

  private async listObjectsV2(identity: Identity, url: URL, signedRegion: string): Promise<string> {
    const bucket = decodeURIComponent(url.pathname.split('/')[1] ?? '');
    const prefix = url.searchParams.get('prefix') ?? '';
    if (!bucket) throw new AwsError(400, 'InvalidRequest', 'Missing bucket name');
    const bucketRegion = this.bucketRegions.get(bucket);
    if (bucketRegion !== undefined && bucketRegion !== signedRegion) {
      // S3 redirects before authorizing: the caller learns the region, never the listing.
      throw new AwsError(301, 'PermanentRedirect',
        'The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.',
        'Sender', { 'x-amz-bucket-region': bucketRegion }, `<Endpoint>${escapeXml(`${bucket}.s3.${bucketRegion}.amazonaws.com`)}</Endpoint><Bucket>${escapeXml(bucket)}</Bucket>`);
    }
    if (await this.mayList(identity.arn, bucket, prefix) !== 'allowed') {
      throw new AwsError(403, 'AccessDenied', 'Access Denied');
    }
    return '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
      + `<Name>${escapeXml(bucket)}</Name><Prefix>${escapeXml(prefix)}</Prefix><KeyCount>0</KeyCount>`
      + `<MaxKeys>${Number(url.searchParams.get('max-keys') ?? 1000)}</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>`;
  }

  // ---------------------------------------------------------------- STS (Query protocol, XML)

  private sts(identity: Identity, form: URLSearchParams): string {
    const action = form.get('Action');
    if (form.get('Version') !== '2011-06-15') {
      throw new AwsError(400, 'InvalidAction', `Could not find operation ${action} for version ${form.get('Version')}`);
    }
    if (action === 'GetCallerIdentity') {
      return stsXml('GetCallerIdentity', `<Arn>${identity.arn}</Arn><UserId>${identity.userId}</UserId><Account>${AWS_TEST_ACCOUNT}</Account>`);
    }
    if (action === 'GetSessionToken') {
      return this.getSessionToken(identity, form);
    }
    throw new AwsError(400, 'InvalidAction', `Could not find operation ${action} for version 2011-06-15`);
  }

  private getSessionToken(identity: Identity, form: URLSearchParams): string {
    // AWS only issues session tokens to long-term IAM user keys (API-NOTES §6.2).
    if (identity.kind !== 'user') {
      throw new AwsError(403, 'AccessDenied', 'Cannot call GetSessionToken with session credentials');
    }
    const durationText = form.get('DurationSeconds');
    const duration = durationText === null ? 43200 : Number(durationText);
    if (!Number.isInteger(duration) || duration < 900 || duration > 129600) {
      const bound = duration < 900 ? 'greater than or equal to 900' : 'less than or equal to 129600';
      throw new AwsError(400, 'ValidationError', `1 validation error detected: Value '${durationText}' at 'durationSeconds' failed to satisfy constraint: Member must have value ${bound}`);
    }
    const expiresAt = Date.now() + duration * 1000;
    const credentials = { accessKeyId: fakeAccessKeyId('ASIA'), secretAccessKey: fakeSecretAccessKey(), sessionToken: fakeSessionToken() };
    this.identities.set(credentials.accessKeyId, {
      secretAccessKey: credentials.secretAccessKey,
      sessionToken: credentials.sessionToken,
      kind: 'session',
      arn: identity.arn,
      userId: identity.userId,
      expiresAt,
      notValidFor: 0,
      parentKeyId: [...this.identities.entries()].find(([, i]) => i === identity)?.[0],
    });
    this.sessionTokenCount += 1;
    return stsXml('GetSessionToken', '<Credentials>'
      + `<SessionToken>${credentials.sessionToken}</SessionToken>`
      + `<SecretAccessKey>${escapeXml(credentials.secretAccessKey)}</SecretAccessKey>`
      + `<Expiration>${new Date(expiresAt).toISOString()}</Expiration>`
      + `<AccessKeyId>${credentials.accessKeyId}</AccessKeyId>`
      + '</Credentials>');
  }

  // ---------------------------------------------------------------- CloudFormation (Query protocol, XML)

  /** CloudFormation is regional: a stack name is unique per region, and each region only knows its own stacks. */
  private liveStack(stackName: string, region: string): StandInStack | undefined {
    return this.stacks.find((s) => s.stackName === stackName && stackRegion(s.stackId) === region && s.stackStatus !== 'DELETE_COMPLETE');
  }

  /** A stack by name (live ones only) or by id (deleted ones too), as the region the request was signed for sees it. */
  private findStack(name: string, region: string): StandInStack | undefined {
    return name.startsWith('arn:') ? this.stacks.find((s) => s.stackId === name && stackRegion(s.stackId) === region) : this.liveStack(name, region);
  }

  /**
   * `DescribeStacks`: by name only live stacks answer; by stack id (ARN) a deleted stack still
   * does, with `DELETE_COMPLETE` (as on AWS for 90 days). Without `StackName`, every live stack.
   */
  private async cloudFormation(identity: Identity, form: URLSearchParams, region: string): Promise<string> {
    const action = form.get('Action');
    if (form.get('Version') !== '2010-05-15' || (action !== 'DescribeStacks' && action !== 'ListStackResources')) {
      throw new AwsError(400, 'InvalidAction', `Could not find operation ${action} for version ${form.get('Version')}`);
    }
    const name = form.get('StackName');
    const resourceArn = name === null ? '*'
      : name.startsWith('arn:') ? name : `arn:aws:cloudformation:${region}:${AWS_TEST_ACCOUNT}:stack/${name}/*`;
    await this.authorizeQuery(identity, `cloudformation:${action}`, resourceArn);
    if (action === 'ListStackResources') return this.listStackResources(name, region);
    let found: StandInStack[];
    if (name === null) {
      found = this.stacks.filter((s) => s.stackStatus !== 'DELETE_COMPLETE' && stackRegion(s.stackId) === region);
    } else {
      const stack = this.findStack(name, region);
      if (!stack) throw new AwsError(400, 'ValidationError', `Stack with id ${name} does not exist`);
      found = [stack];
    }
    const members = found.map((s) => '<member>'
      + `<StackName>${escapeXml(s.stackName)}</StackName><StackId>${escapeXml(s.stackId)}</StackId>`
      + `<CreationTime>${new Date(s.creationTime).toISOString()}</CreationTime><StackStatus>${s.stackStatus}</StackStatus>`
      + '</member>').join('');
    return `<DescribeStacksResponse xmlns="${CFN_NS}"><DescribeStacksResult><Stacks>${members}</Stacks></DescribeStacksResult>`
      + `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></DescribeStacksResponse>`;
  }

  /** IAM evaluation of a Query-protocol call (CloudFormation, IAM): refused with 403 AccessDenied in AWS's words. */
  private async authorizeQuery(identity: Identity, action: string, resourceArn: string): Promise<void> {
    if (!this.authorizer) return;
    const decision = await this.authorizer({ principalArn: identity.arn, action, resourceArn, context: { 'aws:SecureTransport': 'true' } });
    if (decision === 'allowed') return;
    throw new AwsError(403, 'AccessDenied', `User: ${identity.arn} is not authorized to perform: ${action} on resource: ${resourceArn} `
      + (decision === 'explicitly-denied' ? 'with an explicit deny in an identity-based policy' : `because no identity-based policy allows the ${action} action`));
  }

  /** `ListStackResources` of a live stack (by name) or any stack (by id); one page. */
  private listStackResources(name: string | null, region: string): string {
    if (name === null) throw new AwsError(400, 'ValidationError', '1 validation error detected: Value null at \'stackName\' failed to satisfy constraint: Member must not be null');
    const stack = this.findStack(name, region);
    if (!stack) throw new AwsError(400, 'ValidationError', `Stack with id ${name} does not exist`);
    const members = stack.resources.map((r) => '<member>'
      + `<LogicalResourceId>${escapeXml(r.logicalId)}</LogicalResourceId><PhysicalResourceId>${escapeXml(r.physicalId)}</PhysicalResourceId>`
      + `<ResourceType>${escapeXml(r.type)}</ResourceType><ResourceStatus>CREATE_COMPLETE</ResourceStatus>`
      + `<LastUpdatedTimestamp>${new Date(stack.creationTime).toISOString()}</LastUpdatedTimestamp>`
      + '</member>').join('');
    return `<ListStackResourcesResponse xmlns="${CFN_NS}"><ListStackResourcesResult><StackResourceSummaries>${members}</StackResourceSummaries>`
      + `</ListStackResourcesResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></ListStackResourcesResponse>`;
  }

  // ---------------------------------------------------------------- IAM (Query protocol, XML)

  /** `GetRole`: the role with its trust policy URL-encoded, as IAM returns it; the user access-key calls. */
  private async iam(identity: Identity, form: URLSearchParams): Promise<string> {
    const action = form.get('Action');
    if (form.get('Version') === '2010-05-08' && (action === 'ListAccessKeys' || action === 'CreateAccessKey' || action === 'DeleteAccessKey' || action === 'ListUserTags')) {
      return this.iamAccessKeys(identity, action, form);
    }
    if (form.get('Version') !== '2010-05-08' || action !== 'GetRole') {
      throw new AwsError(400, 'InvalidAction', `Could not find operation ${action} for version ${form.get('Version')}`);
    }
    const roleName = requireString(form.get('RoleName') ?? undefined, 'roleName');
    await this.authorizeQuery(identity, 'iam:GetRole', `arn:aws:iam::${AWS_TEST_ACCOUNT}:role/${roleName}`);
    const role = this.roles.get(roleName);
    if (!role) throw new AwsError(404, 'NoSuchEntity', `The role with name ${roleName} cannot be found.`);
    return `<GetRoleResponse xmlns="${IAM_NS}"><GetRoleResult><Role><Path>/</Path>`
      + `<AssumeRolePolicyDocument>${encodeURIComponent(JSON.stringify(role.trust))}</AssumeRolePolicyDocument>`
      + `<RoleId>${role.roleId}</RoleId><RoleName>${escapeXml(role.roleName)}</RoleName><Arn>${escapeXml(role.arn)}</Arn>`
      + `<CreateDate>${new Date(role.createDate).toISOString()}</CreateDate><MaxSessionDuration>3600</MaxSessionDuration>`
      + `</Role></GetRoleResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></GetRoleResponse>`;
  }

  /**
   * `ListAccessKeys` / `CreateAccessKey` / `DeleteAccessKey` / `ListUserTags` of an IAM user, as IAM answers them:
   * `CreateDate` per key, at most {@link ACCESS_KEYS_PER_USER} keys per user (`LimitExceeded`, 409),
   * `NoSuchEntity` (404) for a user without keys or a key that is not the user's. Users exist
   * here through their keys (the user of a deleted last key still lists, empty).
   */
  private async iamAccessKeys(identity: Identity, action: string, form: URLSearchParams): Promise<string> {
    const userName = requireString(form.get('UserName') ?? undefined, 'userName');
    // The caller's own account: IAM users live in the account that calls IAM.
    const account = identity.arn.split(':')[4] || AWS_TEST_ACCOUNT;
    await this.authorizeQuery(identity, `iam:${action}`, `arn:aws:iam::${account}:user/${userName}`);
    if (!this.iamUsers.has(userName) && !this.accessKeysOf(userName).length) {
      throw new AwsError(404, 'NoSuchEntity', `The user with name ${userName} cannot be found.`);
    }
    this.iamUsers.add(userName);
    const meta = `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata>`;
    if (action === 'ListUserTags') {
      const members = Object.entries(this.userTags.get(userName) ?? {})
        .map(([k, v]) => `<member><Key>${escapeXml(k)}</Key><Value>${escapeXml(v)}</Value></member>`).join('');
      return `<ListUserTagsResponse xmlns="${IAM_NS}"><ListUserTagsResult><Tags>${members}</Tags><IsTruncated>false</IsTruncated>`
        + `</ListUserTagsResult>${meta}</ListUserTagsResponse>`;
    }
    if (action === 'ListAccessKeys') {
      const members = this.accessKeysOf(userName).map((k) => `<member><UserName>${escapeXml(userName)}</UserName><AccessKeyId>${k.accessKeyId}</AccessKeyId>`
        + `<Status>${k.status}</Status><CreateDate>${new Date(k.createDate).toISOString()}</CreateDate></member>`).join('');
      return `<ListAccessKeysResponse xmlns="${IAM_NS}"><ListAccessKeysResult><AccessKeyMetadata>${members}</AccessKeyMetadata>`
        + `<IsTruncated>false</IsTruncated></ListAccessKeysResult>${meta}</ListAccessKeysResponse>`;
    }
    if (action === 'CreateAccessKey') {
      if (this.accessKeysOf(userName).length >= ACCESS_KEYS_PER_USER) {
        throw new AwsError(409, 'LimitExceeded', `Cannot exceed quota for AccessKeysPerUser: ${ACCESS_KEYS_PER_USER}`);
      }
      const key = { accessKeyId: fakeAccessKeyId('AKIA'), secretAccessKey: fakeSecretAccessKey() };
      // A new key is refused by STS for a moment, as on AWS.
      this.registerAccessKey({ ...key, userName, notValidForNextCalls: this.newKeyPropagationFailures });
      this.issuedKeys.push(key);
      const created = this.identities.get(key.accessKeyId)!.createDate!;
      return `<CreateAccessKeyResponse xmlns="${IAM_NS}"><CreateAccessKeyResult><AccessKey><UserName>${escapeXml(userName)}</UserName>`
        + `<AccessKeyId>${key.accessKeyId}</AccessKeyId><Status>Active</Status><SecretAccessKey>${escapeXml(key.secretAccessKey)}</SecretAccessKey>`
        + `<CreateDate>${new Date(created).toISOString()}</CreateDate></AccessKey></CreateAccessKeyResult>${meta}</CreateAccessKeyResponse>`;
    }
    const accessKeyId = requireString(form.get('AccessKeyId') ?? undefined, 'accessKeyId');
    if (!this.accessKeysOf(userName).some((k) => k.accessKeyId === accessKeyId)) {
      throw new AwsError(404, 'NoSuchEntity', `The Access Key with id ${accessKeyId} cannot be found.`);
    }
    this.deleteAccessKey(accessKeyId);
    return `<DeleteAccessKeyResponse xmlns="${IAM_NS}">${meta}</DeleteAccessKeyResponse>`;
  }

  // ---------------------------------------------------------------- Secrets Manager (JSON 1.1)

  private secretsManager(action: string, input: Record<string, unknown>): Record<string, unknown> {
    switch (action) {
      case 'GetSecretValue': {
        const secret = this.requireSecret(input.SecretId);
        return {
          ARN: secret.arn,
          Name: secret.name,
          VersionId: secret.versionId,
          SecretString: secret.secretString,
          VersionStages: ['AWSCURRENT'],
          CreatedDate: secret.lastChangedDate,
        };
      }
      case 'DescribeSecret': {
        const secret = this.requireSecret(input.SecretId);
        return {
          ARN: secret.arn,
          Name: secret.name,
          ...(secret.description ? { Description: secret.description } : {}),
          CreatedDate: secret.createdDate,
          LastChangedDate: secret.lastChangedDate,
          VersionIdsToStages: { [secret.versionId]: ['AWSCURRENT'] },
          ...(Object.keys(secret.tags).length ? { Tags: Object.entries(secret.tags).map(([Key, Value]) => ({ Key, Value })) } : {}),
        };
      }
      case 'TagResource': {
        const secret = this.requireSecret(input.SecretId);
        this.tagSecret(secret.arn, parseTags(input.Tags), true);
        return {};
      }
      case 'UntagResource': {
        const secret = this.requireSecret(input.SecretId);
        const keys = Array.isArray(input.TagKeys) ? input.TagKeys.filter((k): k is string => typeof k === 'string') : [];
        secret.tags = Object.fromEntries(Object.entries(secret.tags).filter(([k]) => !keys.includes(k)));
        return {};
      }
      case 'PutSecretValue': {
        const secret = this.requireSecret(input.SecretId);
        this.putSecret(secret.arn, requireString(input.SecretString, 'secretString'));
        return { ARN: secret.arn, Name: secret.name, VersionId: secret.versionId, VersionStages: ['AWSCURRENT'] };
      }
      case 'CreateSecret': {
        const name = requireString(input.Name, 'name');
        if (this.findSecret(name)) {
          throw new AwsError(400, 'ResourceExistsException', `The operation failed because the secret ${name} already exists.`);
        }
        const arn = this.putSecret(name, requireString(input.SecretString, 'secretString'));
        const secret = this.findSecret(arn)!;
        if (typeof input.Description === 'string') {
          secret.description = input.Description;
        }
        if (input.Tags !== undefined) secret.tags = parseTags(input.Tags);
        return { ARN: arn, Name: name, VersionId: secret.versionId };
      }
      default:
        throw new AwsError(400, 'UnknownOperationException', `AWS stand-in does not implement secretsmanager.${action}`);
    }
  }

  private requireSecret(secretId: unknown): StoredSecret {
    const secret = this.findSecret(requireString(secretId, 'secretId'));
    if (!secret) {
      throw new AwsError(400, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    }
    if (this.deletedSecrets.has(secret.arn)) {
      throw new AwsError(400, 'InvalidRequestException', "You can't perform this operation on the secret because it was marked for deletion.");
    }
    return secret;
  }

  private respond(
    res: http.ServerResponse, call: AwsCall, status: number, text: string, contentType: string, headers: Record<string, string> = {},
  ): void {
    call.status = status;
    const error = call.errorCode ? ` ${call.errorCode}` : '';
    const secret = call.secretId ? ` ${call.secretId}` : '';
    this.log(`[aws] ${call.service} ${call.action}${secret} key=${call.accessKeyId ?? '-'} -> ${status}${error}`);
    send(res, status, text, { 'content-type': contentType, 'x-amzn-requestid': randomUUID(), ...headers });
  }
}

/** Secrets Manager's `Tags: [{ Key, Value }]`. */
function parseTags(value: unknown): Record<string, string> {
  if (!Array.isArray(value)) {
    throw new AwsError(400, 'ValidationException', "1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must not be null");
  }
  const tags: Record<string, string> = {};
  for (const t of value) {
    if (typeof t?.Key !== 'string' || typeof t?.Value !== 'string') {
      throw new AwsError(400, 'ValidationException', "1 validation error detected: Value at 'tags' failed to satisfy constraint: each tag needs a Key and a Value");
    }
    tags[t.Key] = t.Value;
  }
  return tags;
}

function requireString(value: unknown, member: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new AwsError(400, 'ValidationException', `1 validation error detected: Value at '${member}' failed to satisfy constraint: Member must not be null`);
  }
  return value;
}

function stsXml(action: string, result: string): string {
  return `<${action}Response xmlns="${STS_NS}"><${action}Result>${result}</${action}Result>`
    + `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${action}Response>`;
}

/** The region of a stack ARN. */
function stackRegion(stackId: string): string {
  return stackId.split(':')[3];
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}
