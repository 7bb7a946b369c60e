/**
 * `cdk-aep-s3 doctor`, end to end against the AEP and AWS stand-ins over real HTTP: the command's
 * own code in-process, and the BUNDLED bin (assets/cli/index.js, built by `npx projen bundle`) as a
 * child process where the bundle or the process is what is checked (see run-cli.ts).
 */
import { BUNDLED_CLI, CliRun, runCli } from './run-cli';
import { findSecretLeaks } from '../../offline-world/invariants';
import { AepStandIn, AwsStandIn, fakeAccessKeyId, fakeSecretAccessKey, fakeSessionToken } from '../../offline-world/stand-in';
import { adoptionMarker, AepIds, RETIRED_MARKER_PREFIX, ADOPTION_MARKER_PREFIX, legacyAdoptionMarker } from '../../src/private/contract';

const SECRET_NAME = 'aep/api-credential';
const REGION = 'us-east-1';

let aep: AepStandIn;
let aws: AwsStandIn;

beforeAll(async () => {
  [aep, aws] = await Promise.all([AepStandIn.start(), AwsStandIn.start({ region: REGION })]);
});
afterAll(async () => {
  await Promise.all([aep?.close(), aws?.close()]);
});
beforeEach(() => {
  aep.reset();
  aws.reset();
  aws.putSecret(SECRET_NAME, JSON.stringify(aep.credentials));
});

/**
 * Runs doctor with the stand-ins' endpoints and no inherited AWS or AEP variables: in-process from
 * the source, or the bundled bin spawned when `bundled` (see run-cli.ts for what each covers).
 */
function doctor(args: string[], extraEnv: Record<string, string> = {}, options: { bundled?: boolean } = {}): Promise<CliRun> {
  const env = {
    PATH: process.env.PATH ?? '',
    ...aws.env(),
    AEP_HTTP_TIMEOUT_MS: '1000',
    AEP_RETRY_BASE_MS: '10',
    AEP_RETRY_MAX_ATTEMPTS: '3',
    AEP_DEADLINE_MS: '5000',
    ...extraEnv,
  };
  return runCli(['doctor', ...args], env, { timeoutMs: 30_000, bundled: options.bundled ? BUNDLED_CLI : undefined });
}

const endpoints = () => ['--ims-url', aep.imsUrl, '--flow-service-url', aep.flowServiceUrl];
const standard = (...more: string[]) => ['--credentials-secret', SECRET_NAME, '--sandbox', 'prod', '--region', REGION, ...endpoints(), ...more];

/** Creates a connection through the Flow Service API, as the handler would, with our marker in its description. */
async function createMarkedConnection(kind: 'destination' | 'source', stackId: string, logicalId: string, options: { retired?: boolean; legacy?: boolean } = {}): Promise<string> {
  let description = `made by cdk-aep-s3 ${(options.legacy ? legacyAdoptionMarker : adoptionMarker)(stackId, logicalId)}`;
  if (options.retired) description = description.split(ADOPTION_MARKER_PREFIX).join(RETIRED_MARKER_PREFIX);
  const body = kind === 'destination'
    ? {
      name: `dest ${logicalId}`,
      description,
      auth: { specName: 'Access Key', params: { s3AccessKey: fakeAccessKeyId('AKIA'), s3SecretKey: fakeSecretAccessKey() } },
      connectionSpec: { id: AepIds.S3_DESTINATION_CONNECTION_SPEC, version: '1.0' },
    }
    : {
      name: `src ${logicalId}`,
      description,
      auth: {
        specName: 'Access Key',
        params: { s3AccessKey: fakeAccessKeyId('ASIA'), s3SecretKey: fakeSecretAccessKey(), s3SessionToken: fakeSessionToken(), bucketName: 'acme-inbound' },
      },
      connectionSpec: { id: AepIds.S3_SOURCE_CONNECTION_SPEC, version: '1.0' },
    };
  const res = await fetch(`${aep.flowServiceUrl}/connections`, {
    method: 'POST',
    headers: { ...aep.flowServiceHeaders(aep.issueToken()), 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = await res.json() as { id: string };
  if (res.status !== 201) throw new Error(`stand-in refused the connection: ${res.status} ${JSON.stringify(json)}`);
  return json.id;
}

/** Every secret the run could leak: the IMS client secret and the secret params AEP stores. */
function secretsInPlay(): string[] {
  const values = [aep.credentials.clientSecret];
  for (const c of aep.connections()) {
    for (const key of ['s3SecretKey', 's3SessionToken']) {
      const v = (c.auth?.params as Record<string, unknown> | undefined)?.[key];
      if (typeof v === 'string') values.push(v);
    }
  }
  return values;
}

function expectNoLeaks(run: CliRun): void {
  expect(findSecretLeaks({ stdout: run.stdout, stderr: run.stderr }, secretsInPlay())).toEqual([]);
}

describe('cdk-aep-s3 doctor', () => {
  test('happy path, human output: specs, settled questions, IAM role, marked connections of a live stack; exit 0', async () => {
    const stackId = aws.putStack('AepS3Example');
    const id = await createMarkedConnection('destination', stackId, 'ExportDestinationConnection1A2B3C');
    // The bin users get, spawned: nothing on stderr, not even from the bundled SDK.
    const run = await doctor(standard(), {}, { bundled: true });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("cdk-aep-s3 doctor: sandbox 'prod'");
    expect(run.stdout).toContain('[ok]      IMS issued an access token for client test-client-id');
    // What the live specs declare, per auth mode and for encryption.
    expect(run.stdout).toContain("auth 'Access Key' (KeyBased): s3AccessKey (required), s3SecretKey (required, secret)");
    expect(run.stdout).toContain("auth 'Assumed Role' (S3RoleBased): s3Role (required, secret)");
    expect(run.stdout).toContain("encryption 'File Encryption': encryptionAlgo [\"PGP/GPG\",\"NONE\"] -> request key `encryption`");
    expect(run.stdout).toContain("auth 'IAMRole Based' (IamBasedAuthentication): bucketName (required), folderPath (optional)");
    expect(run.stdout).toContain('Adobe permissions (permissionsInfo): manage: EnterpriseSource write; view: EnterpriseSource read');
    // Open questions it settles.
    expect(run.stdout).toMatch(/encryption-payload \(destination encryption payload\): the live spec declares 'File Encryption'.*sends `encryption`/);
    expect(run.stdout).toContain('session-token-patch (source session-token PATCH): all of s3AccessKey, s3SecretKey, s3SessionToken are replaceable');
    expect(run.stdout).toContain("'IAMRole Based' requires [\"bucketName\"] and declares folderPath");
    expect(run.stdout).toContain('secret-masking (secret params in reads): masked: s3SecretKey come back masked');
    expect(run.stdout).toContain('AEP reads \'IAMRole Based\' source buckets as arn:aws:iam::123456789012:role/aep-ingest-va6');
    // The marked connection, grouped under its live stack.
    expect(run.stdout).toContain(`stack AepS3Example (us-east-1, account 123456789012, ${stackId.split('/')[2]}): stack exists (CREATE_COMPLETE)`);
    expect(run.stdout).toContain(`connections       ${id}  ExportDestinationConnection1A2B3C`);
    expect(run.stdout).toContain('No problem found (exit code 0).');
    expect(aws.calls.filter((c) => c.service === 'cloudformation').map((c) => [c.action, c.status])).toEqual([['DescribeStacks', 200]]);
    expectNoLeaks(run);
  });

  test('--json reports the same for scripts, and follows the other spec variant (PGPGPG, token-only refresh, no folderPath)', async () => {
    aep.setConnectionSpecVariant({ encryptionAlgo: 'PGPGPG', sessionTokenRefresh: 'token-only', iamRoleFolderPath: false, revision: 'older' });
    const run = await doctor(standard('--json'));
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.exitCode).toBe(0);
    expect(report.sandbox).toBe('prod');
    expect(report.connectionSpecs.destination.encryption).toEqual({ name: 'File PGP/GPG Encryption', encryptionAlgo: ['PGPGPG', 'NONE'], requestKey: 'encryptionSpecs' });
    expect(report.connectionSpecs.destination.authSpecs.map((a: { name: string }) => a.name)).toEqual(['Access Key']);
    const byQuestion = Object.fromEntries(report.openQuestions.map((q: { question: string }) => [q.question, q]));
    expect(byQuestion['encryption-payload'].answer).toContain('sends `encryptionSpecs`');
    expect(byQuestion['session-token-patch'].answer).toContain('the one-op (token-only) PATCH');
    expect(byQuestion['source-auth-specs'].answer).toContain('does NOT declare folderPath');
    expect(byQuestion['secret-masking'].settled).toBe(false);
    expect(report.iamRole).toBe('arn:aws:iam::123456789012:role/aep-ingest-va6');
    expect(report.stacks).toEqual([]);
    expectNoLeaks(run);
  });

  test('--json prints what the flow specs of this sandbox declare for the dataflow guesses, under the other documented variant', async () => {
    aep.dataflows.flowSpecVariant = { transformationName: 'General Transform', intervalType: 'integer', mappingVersionType: 'integer' };
    const run = await doctor(standard('--json'));
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    const byQuestion = Object.fromEntries(report.openQuestions.map((q: { question: string }) => [q.question, q]));
    expect(byQuestion['transformation-name']).toMatchObject({ settled: true, answer: expect.stringContaining("the handler sends 'General Transform'") });
    expect(byQuestion['schedule-types']).toMatchObject({ settled: true, answer: 'scheduleSpec declares startTime integer, interval integer' });
    expect(byQuestion['mapping-version-type'].answer).toContain('declares mappingVersion integer');
    expect(byQuestion['flow-spec-audiences-connections'].answer).toContain('source list ["8a9c3494-9708-43d7-ae3f-cda01e5030e1"]');
    expect(report.checks.filter((c: { id: string }) => c.id.startsWith('flow-spec-')).map((c: { status: string }) => c.status)).toEqual(['ok', 'ok', 'ok']);
    const human = await doctor(standard());
    expect(human.stdout).toContain('transformation-name (audience flow transformation name (GeneralTransform vs General Transform)): the live spec declares ["General Transform"]');
  });

  test('an orphan whose stack is gone (and one whose stack was re-created) is flagged: exit 1; retained objects are not', async () => {
    const gone = aws.putStack('OldStack');
    aws.deleteStack('OldStack');
    const before = aws.putStack('Recreated');
    const now = aws.putStack('Recreated');
    expect(now).not.toBe(before);
    const orphan = await createMarkedConnection('source', gone, 'SourceConnectionAAAA');
    await createMarkedConnection('destination', before, 'DestinationConnectionBBBB');
    await createMarkedConnection('destination', gone, 'KeptConnectionCCCC', { retired: true });
    const run = await doctor(standard('--json'));
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout);
    const byStack = Object.fromEntries(report.stacks.map((s: { stackName: string }) => [s.stackName, s]));
    expect(byStack.OldStack.state).toBe('deleted');
    // Looked up by the id the marker names: CloudFormation still answers for a deleted stack.
    expect(byStack.OldStack.detail).toBe(`stack ${gone} was deleted`);
    const oldItems = byStack.OldStack.items.map((i: { id: string; retained: boolean }) => [i.retained, i.id === orphan]);
    expect(oldItems).toEqual(expect.arrayContaining([[false, true], [true, false]]));
    expect(byStack.Recreated.state).toBe('deleted');
    expect(byStack.Recreated.detail).toBe(`stack ${before} was deleted`);
    const problems = report.checks.filter((c: { status: string }) => c.status === 'problem').map((c: { id: string }) => c.id);
    expect(problems.sort()).toEqual(['orphans-OldStack', 'orphans-Recreated']);
    // A stack whose only objects are retained on purpose is not a problem.
    aep.reset();
    await createMarkedConnection('destination', gone, 'KeptConnectionCCCC', { retired: true });
    const retainedOnly = await doctor(standard());
    expect(retainedOnly.code).toBe(0);
    expect(retainedOnly.stdout).toContain('(retained by RemovalPolicy.RETAIN)');
    expectNoLeaks(run);
  });

  test('human output of an orphan says what to do', async () => {
    const gone = aws.putStack('OldStack');
    aws.deleteStack('OldStack');
    await createMarkedConnection('destination', gone, 'DestinationConnectionDDDD');
    const run = await doctor(standard());
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/\[PROBLEM\] 1 AEP object\(s\) of stack OldStack \(us-east-1, account 123456789012\) .* outlived their stack: stack arn:aws:cloudformation:us-east-1:123456789012:stack\/OldStack\/\S+ was deleted\. .*Delete them in AEP/);
    expect(run.stdout).toContain(`ORPHANED: stack ${gone} was deleted`);
    expect(run.stdout).toContain('1 problem found (exit code 1).');
  });

  describe('a sandbox shared by stacks of one name in several regions and accounts', () => {
    const EU = 'arn:aws:cloudformation:eu-west-1:123456789012:stack/Shared/7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d';
    const OTHER_ACCOUNT = 'arn:aws:cloudformation:us-east-1:210987654321:stack/Shared/1b2c3d4e-5f60-4718-9a2b-3c4d5e6f7a8b';

    test('the other region\'s live stack is looked up in its region, by id: not an orphan; nor is another account\'s (not checked); exit 0', async () => {
      const us = aws.putStack('Shared');
      aws.putStack('Shared', { stackId: EU });
      await createMarkedConnection('destination', us, 'DestinationConnectionUUUU');
      await createMarkedConnection('destination', EU, 'DestinationConnectionEEEE');
      await createMarkedConnection('destination', OTHER_ACCOUNT, 'DestinationConnectionAAAA');
      const run = await doctor(standard('--json'));
      const report = JSON.parse(run.stdout);
      const states = report.stacks.map((s: { region: string; account: string; state: string }) => `${s.region}/${s.account}: ${s.state}`).sort();
      expect(states).toEqual(['eu-west-1/123456789012: exists', 'us-east-1/123456789012: exists', 'us-east-1/210987654321: other-account']);
      expect(report.checks.filter((c: { status: string }) => c.status === 'problem')).toEqual([]);
      expect(run.code).toBe(0);
      const human = await doctor(standard());
      expect(human.stdout).toContain('stack Shared (us-east-1, account 210987654321, 1b2c3d4e-5f60-4718-9a2b-3c4d5e6f7a8b): not checked: stack Shared (us-east-1, account 210987654321) belongs to another account');
    });

    test('the other region\'s stack deleted: its objects are orphans, found through its own region; the live one here is not', async () => {
      const us = aws.putStack('Shared');
      aws.putStack('Shared', { stackId: EU });
      aws.deleteStack('Shared', 'eu-west-1');
      await createMarkedConnection('destination', us, 'DestinationConnectionUUUU');
      const orphan = await createMarkedConnection('destination', EU, 'DestinationConnectionEEEE');
      const run = await doctor(standard('--json'));
      const report = JSON.parse(run.stdout);
      const eu = report.stacks.find((s: { region: string }) => s.region === 'eu-west-1');
      expect(eu.state).toBe('deleted');
      expect(eu.items.map((i: { id: string }) => i.id)).toEqual([orphan]);
      expect(report.stacks.find((s: { region: string }) => s.region === 'us-east-1').state).toBe('exists');
      expect(report.checks.filter((c: { status: string }) => c.status === 'problem').map((c: { message: string }) => c.message))
        .toEqual([expect.stringMatching(/^1 AEP object\(s\) of stack Shared \(eu-west-1, account 123456789012\) .* outlived their stack: stack arn:aws:cloudformation:eu-west-1:123456789012:stack\/Shared\/.* was deleted/)]);
      expect(run.code).toBe(1);
    });

    test('objects still carrying the earlier marker (no region): never called orphans, whatever this region holds: cannot decide, exit 4', async () => {
      aws.putStack('Shared');
      await createMarkedConnection('destination', EU, 'DestinationConnectionEEEE', { legacy: true });
      const run = await doctor(standard('--json'));
      const report = JSON.parse(run.stdout);
      expect(report.stacks).toHaveLength(1);
      expect(report.stacks[0]).toEqual(expect.objectContaining({ stackName: 'Shared', state: 'unknown' }));
      expect(report.stacks[0].region).toBeUndefined();
      expect(report.stacks[0].detail).toMatch(/written before markers named a region and account, and the stack named Shared in us-east-1 is another one .*a stack of this name and id in another region or account may own them/);
      const findings = report.checks.filter((c: { check: string }) => c.check === 'orphaned-objects');
      expect(findings.map((c: { status: string }) => c.status)).toEqual(['cannot-decide']);
      expect(findings[0].action).toMatch(/^find stack Shared \(id …\/7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d\) in the other regions and accounts/);
      expect(run.stdout).not.toMatch(/[Dd]elete them/);
      expect(run.code).toBe(4);

      // No stack of that name here at all: still undecided, never "delete them".
      aws.reset();
      aws.putSecret(SECRET_NAME, JSON.stringify(aep.credentials));
      const human = await doctor(standard());
      expect(human.code).toBe(4);
      expect(human.stdout).toContain('[UNDECIDED] could not tell whether stack Shared still owns 1 AEP object(s): their marker was written before markers named a region and account, and no stack named Shared exists in us-east-1');
      expect(human.stdout).not.toMatch(/[Dd]elete them|ORPHANED/);
      expect(human.stdout).toContain('No problem found; 1 check could not decide (exit code 4).');
    });
  });

  test('a wrong client secret: exit 3, a message, no piece of either secret in the output', async () => {
    const wrong = 'WRONG-secret-value-never-printed-42';
    aws.putSecret(SECRET_NAME, JSON.stringify({ ...aep.credentials, clientSecret: wrong }));
    for (const json of [false, true]) {
      const run = await doctor(standard(...(json ? ['--json'] : [])));
      expect(run.code).toBe(3);
      const text = run.stdout + run.stderr;
      expect(text).toContain('IMS did not issue a token');
      expect(text).toContain('invalid_client');
      expect(text).toContain('check clientId and clientSecret');
      expect(findSecretLeaks({ stdout: run.stdout, stderr: run.stderr }, [wrong, aep.credentials.clientSecret])).toEqual([]);
    }
  });

  test('credential from env vars for a first try; none at all is exit 3; an unreadable secret is exit 3', async () => {
    const fromEnv = await doctor(['--sandbox', 'prod', ...endpoints()], {
      AEP_CLIENT_ID: aep.credentials.clientId, AEP_CLIENT_SECRET: aep.credentials.clientSecret, AEP_ORG_ID: aep.credentials.orgId,
    });
    expect(fromEnv.code).toBe(0);
    expect(fromEnv.stdout).toContain('credential: environment');
    expect(aws.calls.filter((c) => c.service === 'secretsmanager')).toEqual([]);
    expectNoLeaks(fromEnv);

    const none = await doctor(['--sandbox', 'prod', ...endpoints()]);
    expect(none.code).toBe(3);
    expect(none.stdout).toContain('no AEP credential: pass --credentials-secret');

    const missing = await doctor(['--credentials-secret', 'no/such/secret', '--sandbox', 'prod', ...endpoints()]);
    expect(missing.code).toBe(3);
    expect(missing.stdout).toContain("cannot read the AEP credential from Secrets Manager secret no/such/secret: Secrets Manager can't find the specified secret.");
  });

  test('a wrong org id is refused by the gateway: exit 3', async () => {
    aws.putSecret(SECRET_NAME, JSON.stringify({ ...aep.credentials, orgId: 'OTHERORG000000000@AdobeOrg' }));
    const run = await doctor(standard());
    expect(run.code).toBe(3);
    expect(run.stdout).toContain('the AEP gateway refused the credential for sandbox prod');
    expect(run.stdout).toContain('403025');
  });

  test.each([
    [['--sandbox', 'prod', '--bogus']],
    [['--credentials-secret', SECRET_NAME]],
    [['--sandbox', 'Prod']],
    [['--sandbox', 'prod', '--ims-url', 'http://ims.example.com']],
    [['--sandbox']],
  ])('usage error %j: exit 2 and the usage text on stderr', async (args) => {
    const run = await doctor(args);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('Usage: cdk-aep-s3 doctor --sandbox <name>');
  });

  describe('a secret VALUE passed as --credentials-secret: exit 2, never echoed', () => {
    /**
     * Every 8-character piece of the values that shows up in the output. For the JSON, its values
     * (client id, client secret, org id): its key names are in the usage text anyway.
     */
    const pieces = (run: CliRun, values: string[]) => {
      const text = run.stdout + run.stderr;
      const found: string[] = [];
      for (const value of values) {
        for (let i = 0; i + 8 <= value.length; i++) if (text.includes(value.substring(i, i + 8))) found.push(value.substring(i, i + 8));
      }
      return found;
    };
    const jsonValues = () => Object.values(aep.credentials).map(String);
    const RANDOM = 'p8e-Xq3vT9kLm2Rb7Yc4Nw8Hd1Fs6Gj5Pz0A';

    test.each<[string, () => string[], string, () => string[]]>([
      ['the credential JSON', () => ['--credentials-secret', JSON.stringify(aep.credentials)], 'JSON', jsonValues],
      ['the JSON with =', () => [`--credentials-secret=${JSON.stringify(aep.credentials)}`], 'JSON', jsonValues],
      ['text naming clientSecret', () => ['--credentials-secret', `clientSecret=${aep.credentials.clientSecret}`], 'text naming clientSecret', () => [aep.credentials.clientSecret]],
      ['a bare Adobe client secret', () => ['--credentials-secret', RANDOM], 'an Adobe client secret (p8e-…)', () => [RANDOM]],
    ])('%s', async (_name, args, shape, value) => {
      const run = await doctor([...args(), '--sandbox', 'prod', ...endpoints()]);
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain("--credentials-secret takes the NAME or ARN of a Secrets Manager secret (e.g. aep/api-credential), not the secret's value; "
        + `the value given looks like ${shape} and is not shown.`);
      expect(run.stderr).toContain('Usage: cdk-aep-s3 doctor --sandbox <name>');
      expect(pieces(run, value())).toEqual([]);
      expect(findSecretLeaks({ stdout: run.stdout, stderr: run.stderr }, [aep.credentials.clientSecret, RANDOM])).toEqual([]);
      // Refused before any call: nothing read, nothing sent.
      expect(aws.calls).toEqual([]);
      expect(aep.requests).toEqual([]);
    });

    test('unquoted JSON split by the shell: the stray half is not echoed either', async () => {
      const json = JSON.stringify(aep.credentials);
      const [head, tail] = [json.substring(0, json.indexOf(',') + 1), json.substring(json.indexOf(',') + 1)];
      const run = await doctor(['--credentials-secret', head, tail, '--sandbox', 'prod', ...endpoints()]);
      expect(run.code).toBe(2);
      expect(pieces(run, jsonValues())).toEqual([]);
    });

    test('secret names and ARNs are still taken as names', async () => {
      aws.putSecret('prod/aep/oauth_server_to_server-2025', JSON.stringify(aep.credentials));
      const byName = await doctor(['--credentials-secret', 'prod/aep/oauth_server_to_server-2025', '--sandbox', 'prod', '--region', REGION, ...endpoints()]);
      expect(byName.code).toBe(0);
      const arn = `arn:aws:secretsmanager:${REGION}:111122223333:secret:no/such-AbCdEf`;
      const byArn = await doctor(['--credentials-secret', arn, '--sandbox', 'prod', '--region', REGION, ...endpoints()]);
      expect(byArn.code).toBe(3);
      expect(byArn.stdout).toContain(`cannot read the AEP credential from Secrets Manager secret ${arn}`);
    });
  });

  test('a sandbox where the credential lacks a permission (403 2118/2121): names the permission, exit 1', async () => {
    aep.inject({
      match: { method: 'GET', path: '/connections' },
      kind: 'status',
      status: 403,
      times: 10,
      body: { errorCode: '2121-403', errorMessage: 'The permission manage is denied on resource Enterprise Source' },
    });
    const run = await doctor(standard());
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("[PROBLEM] could not list /connections (GET /connections) in sandbox prod: the credential lacks the 'manage' permission on 'Enterprise Source' in sandbox prod");
    expect(run.stdout).toContain('View Sources + Manage Sources');
    // The specs were still read: the rest of the report stands.
    expect(run.stdout).toContain("auth 'Assumed Role'");
    // A 403 is not retried (one attempt).
    expect(aep.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/connections')).length).toBe(1);
  });
});

describe('doctor: the trust of assumed-role destination roles (sts:ExternalId)', () => {
  const STACK = 'RoleExports';
  const ROLE_LOGICAL_ID = 'AudiencesAuthRole1A2B3C4D';
  const CONNECTION_LOGICAL_ID = 'AudiencesConnectionDestination5E6F7A8B';
  /** CloudFormation's generated name: stack, logical id, random suffix (the suffix is what Adobe wants kept confidential). */
  const ROLE_NAME = `${STACK}-${ROLE_LOGICAL_ID}-Q7x2Kp9ZtLm3`;
  const ADOBE_ROOT = { AWS: `arn:aws:iam::${AepIds.ADOBE_DESTINATIONS_ACCOUNT}:root` };

  /** A live stack with one assumed-role destination: its marked AEP connection and its role with `condition` in the trust. */
  async function deployedRoleDestination(condition?: Record<string, unknown>): Promise<string> {
    const stackId = aws.putStack(STACK, {
      resources: [
        { logicalId: ROLE_LOGICAL_ID, type: 'AWS::IAM::Role', physicalId: ROLE_NAME },
        { logicalId: 'CdkAepS3ProviderOnEventServiceRole0A1B2C3D', type: 'AWS::IAM::Role', physicalId: `${STACK}-CdkAepS3ProviderOnEvent-AbCdEf` },
        { logicalId: CONNECTION_LOGICAL_ID, type: 'Custom::AepDestinationConnection', physicalId: 'set-below' },
      ],
    });
    const roleArn = aws.putRole(ROLE_NAME, {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: ADOBE_ROOT, Action: 'sts:AssumeRole', ...(condition ? { Condition: condition } : {}) }],
    });
    // The provider's Lambda role trusts Lambda, not Adobe: not a destination role.
    aws.putRole(`${STACK}-CdkAepS3ProviderOnEvent-AbCdEf`, {
      Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    });
    const res = await fetch(`${aep.flowServiceUrl}/connections`, {
      method: 'POST',
      headers: { ...aep.flowServiceHeaders(aep.issueToken()), 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'dest role',
        description: `made by cdk-aep-s3 ${adoptionMarker(stackId, CONNECTION_LOGICAL_ID)}`,
        auth: { specName: 'Assumed Role', params: { s3Role: roleArn } },
        connectionSpec: { id: AepIds.S3_DESTINATION_CONNECTION_SPEC, version: '1.0' },
      }),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { id: string }).id;
  }

  /** The role's name must not reach the output (Adobe asks to keep it confidential): none of its suffix. */
  function expectRoleNameHidden(run: CliRun): void {
    expect(run.stdout + run.stderr).not.toContain('Q7x2Kp9ZtLm3');
  }

  test('trust locked to the credential\'s org: [ok], from GetCallerIdentity, DescribeStacks, ListStackResources and GetRole only', async () => {
    const id = await deployedRoleDestination({ StringEquals: { 'sts:ExternalId': aep.credentials.orgId } });
    const run = await doctor(standard());
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`[ok]      stack ${STACK}: role ${ROLE_LOGICAL_ID} (destination connection ${id}) admits AEP only for IMS org ${aep.credentials.orgId} (sts:ExternalId), the credential's org`);
    expect(aws.calls.filter((c) => c.service !== 'secretsmanager').map((c) => `${c.service}:${c.action} ${c.status}`))
      .toEqual(['sts:GetCallerIdentity 200', 'cloudformation:DescribeStacks 200', 'cloudformation:ListStackResources 200', 'iam:GetRole 200', 'iam:GetRole 200']);
    const json = JSON.parse((await doctor(standard('--json'))).stdout);
    expect(json.destinationRoles).toEqual([{ stackName: STACK, logicalId: ROLE_LOGICAL_ID, connectionIds: [id], externalIds: [aep.credentials.orgId], verdict: 'locked' }]);
    expectRoleNameHidden(run);
  });

  test('no sts:ExternalId condition: a warning naming the exposure and the org id to set', async () => {
    await deployedRoleDestination();
    const run = await doctor(standard());
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`\\[warn\\] +stack ${STACK}: role ${ROLE_LOGICAL_ID} \\(destination connection [0-9a-f-]+\\) trusts Adobe's destinations account 670664943635 without an sts:ExternalId condition: any AEP organization that learns the role ARN can point its own destination at your folder \\(confused deputy\\)`));
    expect(run.stdout).toContain(`set imsOrgId: '${aep.credentials.orgId}' on the AepSandbox`);
    expectRoleNameHidden(run);
  });

  test('an external id of another org: a problem (AEP is refused), exit 1, both org ids and the fix', async () => {
    await deployedRoleDestination({ StringEquals: { 'sts:ExternalId': 'OTHERORG42@AdobeOrg' } });
    const run = await doctor(standard());
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`[PROBLEM] stack ${STACK}: role ${ROLE_LOGICAL_ID}`);
    expect(run.stdout).toContain(`admits AEP only with sts:ExternalId OTHERORG42@AdobeOrg, but the credential belongs to IMS org ${aep.credentials.orgId}: AEP assumes the role as ${aep.credentials.orgId} and is refused`);
    expect(run.stdout).toContain(`Set imsOrgId to '${aep.credentials.orgId}'`);
    expectRoleNameHidden(run);
  });

  test('an identity without iam:GetRole: a warning naming the permission, never the role name', async () => {
    await deployedRoleDestination({ StringEquals: { 'sts:ExternalId': aep.credentials.orgId } });
    aws.setAuthorizer(({ action }) => (action === 'iam:GetRole' ? 'denied' : 'allowed'));
    try {
      const run = await doctor(standard());
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`[warn]    stack ${STACK}: role ${ROLE_LOGICAL_ID}: could not read its trust policy (IAM GetRole: AccessDenied); grant your identity iam:GetRole`);
      expect(aws.calls.filter((c) => c.service === 'iam').map((c) => [c.status, c.errorCode])).toEqual([[403, 'AccessDenied'], [403, 'AccessDenied']]);
      expectRoleNameHidden(run);
    } finally {
      aws.setAuthorizer(undefined);
    }
  });
});
