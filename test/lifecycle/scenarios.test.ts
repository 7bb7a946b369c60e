/**
 * Lifecycle scenarios in the faithful offline world: synthesized stacks deployed by the
 * CloudFormation simulator (rollback, replacement cleanup, the Provider framework, IAM evaluated
 * against the policies live at each moment) through the BUNDLED handler, against the AEP stand-in
 * (faults applied or not, late application). After every scenario the world invariants must hold:
 * AEP holds exactly what the stack owns (plus what RETAIN keeps), every key AEP holds works, no
 * 8+ character piece of a secret in any template, log, response, error, stack event or recording.
 */
import { Duration, RemovalPolicy, SecretValue } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { CREDENTIALS_SECRET, SCENARIO_ENV, ScenarioScope, ScenarioWorld } from '../../offline-world/scenario';
import { fakeAccessKeyId, fakeSecretAccessKey } from '../../offline-world/stand-in';
import { AepS3Destination, AepS3Source, S3DestinationAuth, S3SourceAuth } from '../../src';
import { Attributes, CommonProps, DestinationConnectionProps, ResourceTypes, TargetConnectionProps } from '../../src/private/contract';

jest.setTimeout(60_000);

let w: ScenarioWorld;
let n = 0;
beforeEach(async () => {
  w = await ScenarioWorld.start(`Scenario${++n}`);
});
afterEach(async () => {
  await w.close();
});

interface DestinationOptions {
  readonly sandboxName?: string;
  readonly credentialsSecretName?: string;
  readonly auth?: S3DestinationAuth;
  readonly description?: string;
  readonly removalPolicy?: RemovalPolicy;
  readonly folderPath?: string;
  /** The sandbox's IMS org id (default: the stand-in credential's org). */
  readonly imsOrgId?: string;
}

/** One access-key (by default) destination on an imported bucket. */
function destination(o: DestinationOptions = {}, id = 'Exports') {
  return ({ stack, sandbox }: ScenarioScope) => {
    new AepS3Destination(stack, id, {
      sandbox: sandbox({ sandboxName: o.sandboxName, credentialsSecretName: o.credentialsSecretName, imsOrgId: o.imsOrgId }),
      bucket: s3.Bucket.fromBucketName(stack, `${id}Bucket`, 'acme-aep-exports'),
      auth: o.auth,
      description: o.description,
      removalPolicy: o.removalPolicy,
      folderPath: o.folderPath,
    });
  };
}

/** Base connection id: the physical id of a source's connection or of a destination's connection pair. */
function connectionOf(logicalPrefix: string): string {
  const r = w.sim.resources().find((x) => (x.type === ResourceTypes.CONNECTION || x.type === ResourceTypes.DESTINATION_CONNECTION)
    && x.logicalId.startsWith(logicalPrefix));
  if (!r) throw new Error(`no connection ${logicalPrefix}`);
  return r.physicalId;
}

/** Target connection id of a destination (carried by its connection pair's attributes). */
function targetOf(logicalPrefix: string): string {
  const r = w.sim.resources().find((x) => x.type === ResourceTypes.DESTINATION_CONNECTION && x.logicalId.startsWith(logicalPrefix));
  if (!r) throw new Error(`no destination connection ${logicalPrefix}`);
  return String(w.sim.resource(r.logicalId)!.attributes[Attributes.TARGET_CONNECTION_ID]);
}

async function expectConsistent(options: { retained?: string[] } = {}) {
  expect(await w.violations(options)).toEqual([]);
  expect(w.aep.validationFailures).toEqual([]);
}

test('baseline: create → rotate the key → destroy leaves nothing, and nothing behind', async () => {
  expect((await w.deploy(destination({ auth: S3DestinationAuth.accessKey({ serial: 1 }) }))).status).toBe('CREATE_COMPLETE');
  const a = connectionOf('Exports');
  await expectConsistent();
  expect((await w.deploy(destination({ auth: S3DestinationAuth.accessKey({ serial: 2 }) }))).status).toBe('UPDATE_COMPLETE');
  expect(connectionOf('Exports')).toBe(a);
  await expectConsistent();
  expect((await w.destroy()).status).toBe('DELETE_COMPLETE');
  await expectConsistent();
  expect(w.aep.connections()).toEqual([]);
  expect(w.sim.leftBehind).toEqual([]);
});

describe('assumed role locked to the IMS org (sts:ExternalId, August 2026)', () => {
  test('a sandbox declared for another org than its credential: the Create fails before AEP holds anything, and rolls back clean', async () => {
    const result = await w.deploy(destination({ auth: S3DestinationAuth.assumedRole(), imsOrgId: 'OTHERORG42@AdobeOrg' }));
    expect(result.status).toBe('ROLLBACK_COMPLETE');
    expect(result.failure).toContain(`belongs to IMS org ${w.aep.credentials.orgId}, but the destination role's trust admits AEP only for IMS org OTHERORG42@AdobeOrg`);
    expect(w.aep.requests.filter((r) => r.method === 'POST' && /\/(connections|targetConnections)$/.test(r.path))).toEqual([]);
    expect(w.aep.connections()).toEqual([]);
    expect(w.sim.leftBehind).toEqual([]);
    await expectConsistent();
  });

  test("the credential's own org: the role trusts only it, and the pair is created", async () => {
    expect((await w.deploy(destination({ auth: S3DestinationAuth.assumedRole() }))).status).toBe('CREATE_COMPLETE');
    const role = w.sim.resources().find((r) => r.type === 'AWS::IAM::Role' && r.logicalId.startsWith('ExportsAuthRole'))!;
    expect(JSON.stringify(w.sim.resource(role.logicalId)!.properties.AssumeRolePolicyDocument))
      .toContain(`"Condition":{"StringEquals":{"sts:ExternalId":"${w.aep.credentials.orgId}"}}`);
    expect(w.aep.connections().map((c) => c.auth?.specName)).toEqual(['Assumed Role']);
    await expectConsistent();
  });
});

describe('bug 1: the rollback of a failed replacing Update never makes a third connection', () => {
  test('sandbox change refused with 403: rollback returns A untouched, nothing deleted in cleanup', async () => {
    await w.deploy(destination());
    const a = connectionOf('Exports');
    const t = targetOf('Exports');
    const etag = w.aep.getConnection(a)!.etag;
    w.aep.inject({ kind: 'status', status: 403, match: { method: 'GET' }, body: { error_code: '403027', message: 'User region is missing' } });
    const result = await w.deploy(destination({ sandboxName: 'dev' }));
    expect(result.status).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(connectionOf('Exports')).toBe(a);
    expect(targetOf('Exports')).toBe(t);
    expect(w.aep.getConnection(a)!.etag).toBe(etag);
    expect(w.aep.connections().map((c) => c.id)).toEqual([a]);
    expect(w.sim.leftBehind).toEqual([]);
    await expectConsistent();
  });

  test('auth type change whose target connection then fails: the rollback reaches the replacement B and returns to A', async () => {
    await w.deploy(destination());
    const a = connectionOf('Exports');
    w.aep.inject({ kind: 'status', status: 403, match: { method: 'POST', path: '/targetConnections' } });
    const result = await w.deploy(destination({ auth: S3DestinationAuth.assumedRole() }));
    expect(result.status).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(connectionOf('Exports')).toBe(a);
    expect(w.aep.connections().map((c) => c.id)).toEqual([a]);
    expect(w.sim.leftBehind).toEqual([]);
    await expectConsistent();
  });
});

describe('the destination connection pair (one custom resource) under rollback', () => {
  test('a replacement that succeeded, then a later resource fails: the rollback returns to the original pair and cleanup removes the new one', async () => {
    await w.deploy(destination());
    const a = connectionOf('Exports');
    const t = targetOf('Exports');
    const accessKeyId = fakeAccessKeyId('AKIA', 'swapped');
    const secretAccessKey = fakeSecretAccessKey('swapped');
    w.aws.registerAccessKey({ accessKeyId, secretAccessKey });
    w.aws.putSecret(`arn:aws:secretsmanager:${SCENARIO_ENV.region}:${SCENARIO_ENV.account}:secret:aep/byo-key-Zx12Yw`, JSON.stringify({ accessKeyId, secretAccessKey }));
    w.secrets.add(secretAccessKey);
    const result = await w.deploy((scope) => {
      destination({ sandboxName: 'dev' })(scope);
      // Fails (swapped secret fields) only after the pair above was replaced in the new sandbox.
      const late = new AepS3Destination(scope.stack, 'Late', {
        sandbox: scope.sandbox(),
        bucket: s3.Bucket.fromBucketName(scope.stack, 'LateBucket', 'acme-aep-exports'),
        folderPath: 'late',
        auth: S3DestinationAuth.accessKeyFromSecret(secretsmanager.Secret.fromSecretNameV2(scope.stack, 'ByoKey', 'aep/byo-key'),
          { accessKeyIdField: 'secretAccessKey', secretAccessKeyField: 'accessKeyId' }),
      });
      late.node.addDependency(scope.stack.node.findChild('Exports'));
    });
    expect(result.status).toBe('UPDATE_ROLLBACK_COMPLETE');
    // The pair was replaced (new physical id), and the rollback's Update reached that replacement.
    const pair = w.sim.invocations.filter((i) => i.resourceType === ResourceTypes.DESTINATION_CONNECTION && i.logicalId.startsWith('Exports'));
    const replaced = pair.find((i) => i.requestType === 'Update' && !i.error && i.response?.PhysicalResourceId !== a);
    expect(replaced).toBeDefined();
    expect(pair.some((i) => i.requestType === 'Update' && i.request?.PhysicalResourceId === replaced!.response.PhysicalResourceId)).toBe(true);
    expect(connectionOf('Exports')).toBe(a);
    expect(targetOf('Exports')).toBe(t);
    expect(w.aep.connections().map((c) => c.id)).toEqual([a]);
    expect(w.aep.targetConnections().map((c) => c.id)).toEqual([t]);
    expect(w.sim.leftBehind).toEqual([]);
    await expectConsistent();
  });
});

describe('IAM propagation: a grant is in force seconds after CloudFormation made it', () => {
  test('first deployment: every custom resource\'s first secret read after its fresh grant succeeds, within the Lambda deadline', async () => {
    await w.close();
    w = await ScenarioWorld.start(`Scenario${++n}`, { iamPropagationMs: 1500 });
    const result = await w.deploy((scope) => {
      destination()(scope);
      destination({ auth: S3DestinationAuth.assumedRole(), folderPath: 'role' }, 'RoleExports')(scope);
    });
    expect(result.failure).toBeUndefined();
    expect(result.status).toBe('CREATE_COMPLETE');
    // The handler was refused at first and read again once the grant was in force.
    expect(w.logs.some((l) => l.includes('retrying') && l.includes('GetSecretValue'))).toBe(true);
    await expectConsistent();
    expect((await w.destroy()).status).toBe('DELETE_COMPLETE');
    await expectConsistent();
  });
});

describe('bug 2: grants outlive the events that need them', () => {
  test('credentials secret AND sandbox change: the cleanup Delete of the old connection can still read the old secret', async () => {
    w.seedCredentials('aep/oauth-new');
    await w.deploy(destination());
    const a = connectionOf('Exports');
    const result = await w.deploy(destination({ sandboxName: 'dev', credentialsSecretName: 'aep/oauth-new' }));
    expect(result.status).toBe('UPDATE_COMPLETE');
    expect(w.sim.leftBehind).toEqual([]);
    expect(connectionOf('Exports')).not.toBe(a);
    expect(w.aep.getConnection(a)).toBeUndefined();
    await expectConsistent();
  });

  test('credentials secret made in the stack, replaced in the same deployment as a sandbox change: the old connection is deleted with the old secret, then the old secret goes', async () => {
    // The stack's own secret, filled by a dynamic reference (no value in the template); a new
    // name replaces it.
    const build = (secretName: string, sandboxName: string) => ({ stack, sandbox }: ScenarioScope) => {
      const credentials = new secretsmanager.Secret(stack, 'AepCredentials', {
        secretName,
        secretStringValue: SecretValue.secretsManager(CREDENTIALS_SECRET),
      });
      new AepS3Destination(stack, 'Exports', {
        sandbox: sandbox({ sandboxName, credentials }),
        bucket: s3.Bucket.fromBucketName(stack, 'ExportsBucket', 'acme-aep-exports'),
      });
    };
    expect((await w.deploy(build('acme/aep-credentials-v1', 'prod'))).status).toBe('CREATE_COMPLETE');
    const a = connectionOf('Exports');
    const oldSecret = w.sim.resources().find((r) => r.type === 'AWS::SecretsManager::Secret')!.physicalId;
    const result = await w.deploy(build('acme/aep-credentials-v2', 'dev'));
    expect(result.status).toBe('UPDATE_COMPLETE');
    expect(w.sim.leftBehind).toEqual([]);
    expect(connectionOf('Exports')).not.toBe(a);
    expect(w.aep.getConnection(a)).toBeUndefined();
    // The old connection's Delete ran before the old secret's.
    const cleanup = result.events.filter((e) => e.status === 'DELETE_COMPLETE').map((e) => e.physicalId);
    expect(cleanup.indexOf(a)).toBeGreaterThanOrEqual(0);
    expect(cleanup.indexOf(a)).toBeLessThan(cleanup.indexOf(oldSecret));
    await expectConsistent();
    expect((await w.destroy()).status).toBe('DELETE_COMPLETE');
    await expectConsistent();
  });

  test('a destination removed from the stack is deleted from AEP (its grant goes after it)', async () => {
    w.seedCredentials('aep/oauth-other');
    const both = (s: ScenarioScope) => {
      destination()(s);
      destination({ credentialsSecretName: 'aep/oauth-other' }, 'Other')(s);
    };
    await w.deploy(both);
    const other = connectionOf('Other');
    const result = await w.deploy(destination());
    expect(result.status).toBe('UPDATE_COMPLETE');
    expect(w.sim.leftBehind).toEqual([]);
    expect(w.aep.getConnection(other)).toBeUndefined();
    await expectConsistent();
  });
});

describe('bug 3 and 4: no piece of a secret in any text', () => {
  test('an AEP error echoing the client secret across the 500-character cut: the stack rolls back, no piece leaks', async () => {
    const secret = w.aep.credentials.clientSecret;
    const message = `${'x'.repeat(500 - Math.floor(secret.length / 2))}${secret} trailing`;
    w.aep.inject({ match: { method: 'POST', path: '/connections' }, kind: 'status', status: 400, body: { error_code: '400', message } });
    const result = await w.deploy(destination());
    expect(result.status).toBe('ROLLBACK_COMPLETE');
    expect(result.failure).toMatch(/HTTP 400/);
    await expectConsistent();
  });

  test('accessKeyFromSecret with swapped field names: fails before any use, the secret key appears nowhere', async () => {
    const accessKeyId = fakeAccessKeyId('AKIA', 'swapped');
    const secretAccessKey = fakeSecretAccessKey('swapped');
    w.aws.registerAccessKey({ accessKeyId, secretAccessKey });
    w.aws.putSecret(`arn:aws:secretsmanager:${SCENARIO_ENV.region}:${SCENARIO_ENV.account}:secret:aep/byo-key-Zx12Yw`, JSON.stringify({ accessKeyId, secretAccessKey }));
    w.secrets.add(secretAccessKey);
    const result = await w.deploy(({ stack, sandbox }) => {
      const secret = secretsmanager.Secret.fromSecretNameV2(stack, 'ByoKey', 'aep/byo-key');
      new AepS3Destination(stack, 'Exports', {
        sandbox: sandbox(),
        bucket: s3.Bucket.fromBucketName(stack, 'Bucket', 'acme-aep-exports'),
        auth: S3DestinationAuth.accessKeyFromSecret(secret, { accessKeyIdField: 'secretAccessKey', secretAccessKeyField: 'accessKeyId' }),
      });
    });
    expect(result.status).toBe('ROLLBACK_COMPLETE');
    expect(result.failure).toMatch(/is not an AWS access key id/);
    expect(w.aws.calls.filter((c) => c.service === 'sts')).toEqual([]);
    await expectConsistent();
  });
});

describe('bug 5: ambiguous POSTs leave neither an orphan nor a duplicate', () => {
  test('a failed Create removes what its own ambiguous POST made; the rollback leaves AEP empty', async () => {
    // The POST is answered 504 and applied 300 ms later; the first lookup after it is refused, so
    // the Create fails and the Provider framework answers the rollback Delete itself.
    w.aep.inject({ match: { method: 'POST', path: '/connections' }, kind: 'status', status: 504, apply: 'later', applyAfterMs: 300 });
    const deploying = w.deploy(destination());
    for (const stop = Date.now() + 10_000; !w.aep.requests.some((r) => r.method === 'POST' && r.path.endsWith('/connections'));) {
      if (Date.now() > stop) throw new Error('no POST /connections within 10 s');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    w.aep.inject({ match: { method: 'GET', path: '/connections' }, kind: 'status', status: 403 });
    const result = await deploying;
    expect(result.status).toBe('ROLLBACK_COMPLETE');
    expect(w.sim.invocations.some((i) => i.answeredByFramework)).toBe(true);
    await expectConsistent();
    expect(w.aep.connections()).toEqual([]);
  });

  test('a POST applied after the settle window: the twin is removed by the next deployment', async () => {
    w.aep.inject({ match: { method: 'POST', path: '/connections' }, kind: 'status', status: 504, apply: 'later', applyAfterMs: 3_000 });
    expect((await w.deploy(destination())).status).toBe('CREATE_COMPLETE');
    await w.aep.settle();
    expect(w.aep.connections()).toHaveLength(2);
    expect((await w.deploy(destination({ description: 'second deployment' }))).status).toBe('UPDATE_COMPLETE');
    await expectConsistent();
  });
});

describe('bug 7: RETAIN on replacement', () => {
  test('the retained connection stops carrying a live marker: switching back never adopts it', async () => {
    const retain = RemovalPolicy.RETAIN;
    await w.deploy(destination({ removalPolicy: retain }));
    const a = connectionOf('Exports');
    await w.deploy(destination({ removalPolicy: retain, auth: S3DestinationAuth.assumedRole() }));
    const b = connectionOf('Exports');
    await w.deploy(destination({ removalPolicy: retain }));
    const c = connectionOf('Exports');
    expect(new Set([a, b, c]).size).toBe(3);
    expect(w.aep.getConnection(a)!.description).toContain('[cdk-aep-s3-retained:');
    const retained = w.aep.connections().map((x) => x.id).filter((id) => id !== c);
    await expectConsistent({ retained: [...retained, ...w.aep.targetConnections().map((x) => x.id).filter((id) => id !== targetOf('Exports'))] });
  });
});

describe('bug 9: drift is corrected by the next deployment', () => {
  test('a name, description and folder changed in the AEP UI are restored', async () => {
    await w.deploy(destination({ folderPath: 'aep/%SEGMENT_NAME%' }));
    const a = connectionOf('Exports');
    const t = targetOf('Exports');
    const before = { name: w.aep.getConnection(a)!.name, params: w.aep.getTargetConnection(t)!.params };
    await w.aep.uiPatch('/connections', a, [{ op: 'replace', path: '/name', value: 'renamed in the UI' }]);
    await w.aep.uiPatch('/targetConnections', t, [{ op: 'replace', path: '/params/path', value: 'elsewhere/%SEGMENT_NAME%' }]);
    await w.deploy(destination({ folderPath: 'aep/%SEGMENT_NAME%', description: 'any change triggers the update' }));
    expect(w.aep.getConnection(a)!.name).toBe(before.name);
    expect(w.aep.getTargetConnection(t)!.params).toEqual(before.params);
    await expectConsistent();
  });
});

describe('session-token source', () => {
  test('create → scheduled refresh → destroy: the keys AEP held are gone with the stack, none still held', async () => {
    const build = ({ stack, sandbox }: ScenarioScope) => {
      new AepS3Source(stack, 'Ingest', {
        sandbox: sandbox(),
        bucket: s3.Bucket.fromBucketName(stack, 'Inbound', 'acme-aep-inbound'),
        folderPath: 'exports/crm',
        auth: S3SourceAuth.accessKey({ sessionToken: { duration: Duration.hours(1), refreshEvery: Duration.minutes(30) } }),
      });
    };
    expect((await w.deploy(build)).status).toBe('CREATE_COMPLETE');
    const id = connectionOf('Ingest');
    const firstKey = w.aep.getConnection(id)!.auth.params.s3AccessKey;
    expect(await w.sim.runSchedules()).toBe(1);
    expect(w.aep.getConnection(id)!.auth.params.s3AccessKey).not.toBe(firstKey);
    await expectConsistent();
    expect((await w.destroy()).status).toBe('DELETE_COMPLETE');
    await expectConsistent();
  });
});

/**
 * The template an earlier library version made: each destination connection split into a
 * `Custom::AepConnection` and a `Custom::AepTargetConnection` on it (same properties, old logical ids).
 */
function twoResourceDesign(template: any): any {
  const out = JSON.parse(JSON.stringify(template));
  for (const [id, r] of Object.entries<any>(template.Resources)) {
    if (r.Type !== ResourceTypes.DESTINATION_CONNECTION) continue;
    const base = id.replace(/ConnectionDestination([0-9A-F]{8})$/, 'Connection$1');
    const target = id.replace(/ConnectionDestination([0-9A-F]{8})$/, 'Target$1');
    const { [DestinationConnectionProps.TARGET_PARAMS]: params, ...baseProps } = r.Properties;
    const shared = ['ServiceToken', 'ServiceTimeout', ...Object.values(CommonProps), TargetConnectionProps.NAME, TargetConnectionProps.DESCRIPTION,
      TargetConnectionProps.CONNECTION_SPEC_ID, TargetConnectionProps.REMOVAL_POLICY];
    delete out.Resources[id];
    out.Resources[base] = { ...r, Type: ResourceTypes.CONNECTION, Properties: baseProps };
    out.Resources[target] = {
      Type: ResourceTypes.TARGET_CONNECTION,
      Properties: {
        ...Object.fromEntries(shared.filter((k) => k in r.Properties).map((k) => [k, r.Properties[k]])),
        [TargetConnectionProps.BASE_CONNECTION_ID]: { 'Fn::GetAtt': [base, Attributes.CONNECTION_ID] },
        [TargetConnectionProps.PARAMS]: params,
      },
      UpdateReplacePolicy: r.UpdateReplacePolicy,
      DeletionPolicy: r.DeletionPolicy,
    };
  }
  return out;
}

describe('stacks deployed by the two-resource version', () => {
  test('their connection and target connection still update in place; the upgrade makes a new pair and removes the old one', async () => {
    expect((await w.deploy(destination(), 'create', twoResourceDesign)).status).toBe('CREATE_COMPLETE');
    const legacyResources = () => w.sim.resources().filter((r) => r.type === ResourceTypes.CONNECTION || r.type === ResourceTypes.TARGET_CONNECTION);
    const legacy = legacyResources();
    expect(legacy.map((r) => r.type).sort()).toEqual([ResourceTypes.CONNECTION, ResourceTypes.TARGET_CONNECTION]);
    const [a, t] = [ResourceTypes.CONNECTION, ResourceTypes.TARGET_CONNECTION].map((type) => legacy.find((r) => r.type === type)!.physicalId);
    await expectConsistent();
    // An old-type Update (here a folder and a description change) still works, in place.
    const v2 = destination({ folderPath: 'aep/v2/%SEGMENT_NAME%', description: 'v2' });
    expect((await w.deploy(v2, 'update', twoResourceDesign)).status).toBe('UPDATE_COMPLETE');
    expect(legacyResources().map((r) => r.physicalId).sort()).toEqual([a, t].sort());
    expect(w.aep.getTargetConnection(t)!.params?.path).toBe('aep/v2/%SEGMENT_NAME%');
    expect(w.aep.getConnection(a)!.description).toMatch(/^v2 /);
    await expectConsistent();
    // The upgrade: CloudFormation cannot change a resource's type, so the one-resource pair is a
    // new resource; the cleanup Deletes of the old types remove the old target, then the old base.
    expect((await w.deploy(v2)).status).toBe('UPDATE_COMPLETE');
    expect(w.sim.leftBehind).toEqual([]);
    expect(w.aep.getConnection(a)).toBeUndefined();
    expect(w.aep.getTargetConnection(t)).toBeUndefined();
    expect(w.aep.connections().map((c) => c.id)).toEqual([connectionOf('Exports')]);
    expect(w.aep.targetConnections().map((c) => c.id)).toEqual([targetOf('Exports')]);
    await expectConsistent();
  });
});
