import { cfnEvent, rejectionOf, useHarness } from './harness';
import { handler } from '../../src/handler/aep.lambda';
import { AepIds, Attributes, DestinationConnectionProps, RemovalPolicies, ResourceTypes } from '../../src/private/contract';

/**
 * `Custom::AepDestinationConnection`: a destination's base and target connection as one custom
 * resource. Physical id = the base connection id; the target is found through it and the marker.
 */
const h = useHarness();
const PAIR = { resourceType: ResourceTypes.DESTINATION_CONNECTION, logicalId: 'ExportsConnectionDestination' };

const PARAMS = { mode: 'Server-to-server', bucketName: 'acme-aep-exports', path: 'aep/%SEGMENT_NAME%', fileType: 'CSV', compression: 'NONE' };

let key: ReturnType<typeof h.seedKey>;
beforeEach(() => {
  key = h.seedKey('aep/pair-key');
});

function props(extra: Record<string, unknown> = {}, params: Record<string, unknown> = {}): Record<string, unknown> {
  return h.destinationAccessKeyProps(key, { [DestinationConnectionProps.TARGET_PARAMS]: { ...PARAMS, ...params }, ...extra });
}

/** AEP writes (POST, PATCH, DELETE) as `METHOD collection`, in order. */
function writes(): string[] {
  return h.aep.requests.filter((r) => r.method !== 'GET' && /\/(connections|targetConnections)(\/|$)/.test(r.path))
    .map((r) => `${r.method} ${r.path.replace(/^.*?(\/(?:connections|targetConnections))(\/.*)?$/, '$1')}`);
}

test('create: base, then target on it; physical id = base id; Data carries both ids and etags', async () => {
  const res = await handler(cfnEvent('Create', props(), PAIR));
  const [base] = h.aep.connections();
  const [target] = h.aep.targetConnections();
  expect(res.PhysicalResourceId).toBe(base.id);
  expect(res.Data).toEqual({
    [Attributes.CONNECTION_ID]: base.id,
    [Attributes.ETAG]: base.etag,
    [Attributes.TARGET_CONNECTION_ID]: target.id,
    [Attributes.TARGET_ETAG]: target.etag,
  });
  expect(target.baseConnectionId).toBe(base.id);
  expect(target.params).toEqual(PARAMS);
  // Both carry the resource's marker (each collection is looked up on its own).
  for (const item of [base, target]) expect(item.description).toMatch(/\[cdk-aep-s3:.+\/ExportsConnectionDestination\]$/);
  expect(writes()).toEqual(['POST /connections', 'POST /targetConnections']);
});

test('a change to export settings only patches the target in place: same physical id, base untouched', async () => {
  const before = props();
  const created = await handler(cfnEvent('Create', before, PAIR));
  const targetId = created.Data![Attributes.TARGET_CONNECTION_ID];
  const baseEtag = h.aep.connections()[0].etag;
  h.aep.requests.length = 0;
  const after = props({}, { path: 'aep/v2/%SEGMENT_ID%', compression: 'GZIP' });
  const updated = await handler(cfnEvent('Update', after, { ...PAIR, physicalId: created.PhysicalResourceId, oldProps: before }));
  expect(updated.PhysicalResourceId).toBe(created.PhysicalResourceId);
  expect(updated.Data![Attributes.TARGET_CONNECTION_ID]).toBe(targetId);
  expect(h.aep.getTargetConnection(targetId)!.params).toMatchObject({ path: 'aep/v2/%SEGMENT_ID%', compression: 'GZIP' });
  expect(h.aep.connections()[0].etag).toBe(baseEtag);
  expect(writes()).toEqual(['PATCH /targetConnections']);
});

test('a replacing change makes a new pair; the cleanup Delete removes the old target, then the old base', async () => {
  const before = props();
  const created = await handler(cfnEvent('Create', before, PAIR));
  const oldTarget = created.Data![Attributes.TARGET_CONNECTION_ID];
  const after = props({ AepSandboxName: 'dev' });
  const replaced = await handler(cfnEvent('Update', after, { ...PAIR, physicalId: created.PhysicalResourceId, oldProps: before }));
  expect(replaced.PhysicalResourceId).not.toBe(created.PhysicalResourceId);
  const newTarget = replaced.Data![Attributes.TARGET_CONNECTION_ID];
  expect(h.aep.getTargetConnection(newTarget)!.baseConnectionId).toBe(replaced.PhysicalResourceId);
  // The old pair stays until cleanup (rollback may still return to it).
  expect(h.aep.getConnection(created.PhysicalResourceId)).toBeDefined();
  expect(h.aep.getTargetConnection(oldTarget)).toBeDefined();
  h.aep.requests.length = 0;
  await handler(cfnEvent('Delete', before, { ...PAIR, physicalId: created.PhysicalResourceId }));
  expect(writes()).toEqual(['DELETE /targetConnections', 'DELETE /connections']);
  expect(h.aep.getConnection(created.PhysicalResourceId)).toBeUndefined();
  expect(h.aep.getTargetConnection(oldTarget)).toBeUndefined();
  expect(h.aep.getTargetConnection(newTarget)).toBeDefined();
});

test('a failed Create removes the base connection it made (no Delete follows a failed Create)', async () => {
  h.aep.inject({ match: { method: 'POST', path: '/targetConnections' }, kind: 'status', status: 403 });
  const err = await rejectionOf(() => handler(cfnEvent('Create', props(), PAIR)));
  expect(err.message).toMatch(/403/);
  expect(h.aep.connections()).toEqual([]);
  expect(h.aep.targetConnections()).toEqual([]);
});

test('a failed replacing Update removes the new base; the rollback returns to the original pair untouched', async () => {
  const before = props();
  const created = await handler(cfnEvent('Create', before, PAIR));
  const a = created.PhysicalResourceId;
  const t = created.Data![Attributes.TARGET_CONNECTION_ID];
  const etags = [h.aep.getConnection(a)!.etag, h.aep.getTargetConnection(t)!.etag];
  const after = props({ AepSandboxName: 'dev' });
  h.aep.inject({ match: { method: 'POST', path: '/targetConnections' }, kind: 'status', status: 403 });
  await rejectionOf(() => handler(cfnEvent('Update', after, { ...PAIR, physicalId: a, oldProps: before })));
  expect(h.aep.connections().map((c) => c.id)).toEqual([a]);
  expect(h.aep.targetConnections().map((c) => c.id)).toEqual([t]);
  h.aep.requests.length = 0;
  const rollback = await handler(cfnEvent('Update', before, { ...PAIR, physicalId: a, oldProps: after }));
  expect(rollback.PhysicalResourceId).toBe(a);
  expect(rollback.Data![Attributes.TARGET_CONNECTION_ID]).toBe(t);
  expect(writes()).toEqual([]);
  expect([h.aep.getConnection(a)!.etag, h.aep.getTargetConnection(t)!.etag]).toEqual(etags);
});

test('the rollback of a replacement that succeeded returns to the original pair (adopted), and its cleanup removes the new pair', async () => {
  const before = props();
  const created = await handler(cfnEvent('Create', before, PAIR));
  const [a, t] = [created.PhysicalResourceId, created.Data![Attributes.TARGET_CONNECTION_ID]];
  const after = props({ AepSandboxName: 'dev' });
  const replaced = await handler(cfnEvent('Update', after, { ...PAIR, physicalId: a, oldProps: before }));
  const [b, tb] = [replaced.PhysicalResourceId, replaced.Data![Attributes.TARGET_CONNECTION_ID]];
  // Another resource fails: CloudFormation sends the old properties to the new physical id.
  h.aep.requests.length = 0;
  const rollback = await handler(cfnEvent('Update', before, { ...PAIR, physicalId: b, oldProps: after }));
  expect(rollback.PhysicalResourceId).toBe(a);
  expect(rollback.Data![Attributes.TARGET_CONNECTION_ID]).toBe(t);
  expect(writes().filter((w) => w.startsWith('POST'))).toEqual([]);
  await handler(cfnEvent('Delete', after, { ...PAIR, physicalId: b }));
  expect(h.aep.getConnection(b)).toBeUndefined();
  expect(h.aep.getTargetConnection(tb)).toBeUndefined();
  expect(h.aep.connections().map((c) => c.id)).toEqual([a]);
  expect(h.aep.targetConnections().map((c) => c.id)).toEqual([t]);
});

test('a target deleted outside CloudFormation is made again on the next Update, same physical id', async () => {
  const before = props();
  const created = await handler(cfnEvent('Create', before, PAIR));
  await h.aep.uiDelete('/targetConnections', created.Data![Attributes.TARGET_CONNECTION_ID]);
  const after = props({ [DestinationConnectionProps.DESCRIPTION]: 'changed' });
  const updated = await handler(cfnEvent('Update', after, { ...PAIR, physicalId: created.PhysicalResourceId, oldProps: before }));
  expect(updated.PhysicalResourceId).toBe(created.PhysicalResourceId);
  const [target] = h.aep.targetConnections();
  expect(updated.Data![Attributes.TARGET_CONNECTION_ID]).toBe(target.id);
  expect(target.baseConnectionId).toBe(created.PhysicalResourceId);
});

test('a Delete lists the targets on its base once: target lookup, kind GET, the two DELETEs, twin lookup (as for RETAIN: one list)', async () => {
  const shapes = () => h.aep.requests.filter((r) => r.path.includes('/flowservice/'))
    .map((r) => `${r.method} ${r.path.replace(/^.*\/flowservice/, '').replace(/\/[0-9a-f-]{36}/g, '/{id}')}`);
  for (const p of [props(), props({ [DestinationConnectionProps.REMOVAL_POLICY]: RemovalPolicies.RETAIN })]) {
    const created = await handler(cfnEvent('Create', p, PAIR));
    h.aep.requests.length = 0;
    await handler(cfnEvent('Delete', p, { ...PAIR, physicalId: created.PhysicalResourceId }));
    expect(shapes().filter((s) => s === 'GET /targetConnections')).toEqual(['GET /targetConnections']);
  }
  h.aep.requests.length = 0;
  const created = await handler(cfnEvent('Create', props(), { ...PAIR, logicalId: 'Other' }));
  h.aep.requests.length = 0;
  await handler(cfnEvent('Delete', props(), { ...PAIR, logicalId: 'Other', physicalId: created.PhysicalResourceId }));
  expect(shapes()).toEqual([
    'GET /targetConnections', 'GET /connections/{id}', 'DELETE /targetConnections/{id}', 'DELETE /connections/{id}', 'GET /connections',
  ]);
});

test('delete removes target then base and tolerates 404; RETAIN keeps both with retired markers', async () => {
  const p = props();
  const created = await handler(cfnEvent('Create', p, PAIR));
  h.aep.requests.length = 0;
  await handler(cfnEvent('Delete', p, { ...PAIR, physicalId: created.PhysicalResourceId }));
  expect(writes()).toEqual(['DELETE /targetConnections', 'DELETE /connections']);
  expect(h.aep.connections()).toEqual([]);
  expect(h.aep.targetConnections()).toEqual([]);
  await expect(handler(cfnEvent('Delete', p, { ...PAIR, physicalId: created.PhysicalResourceId })))
    .resolves.toEqual({ PhysicalResourceId: created.PhysicalResourceId });

  const kept = props({ [DestinationConnectionProps.REMOVAL_POLICY]: RemovalPolicies.RETAIN });
  const again = await handler(cfnEvent('Create', kept, PAIR));
  await handler(cfnEvent('Delete', kept, { ...PAIR, physicalId: again.PhysicalResourceId }));
  const [base] = h.aep.connections();
  const [target] = h.aep.targetConnections();
  for (const item of [base, target]) expect(item.description).toContain('[cdk-aep-s3-retained:');
  // A later Create of the same logical resource adopts neither.
  const fresh = await handler(cfnEvent('Create', p, PAIR));
  expect(fresh.PhysicalResourceId).not.toBe(base.id);
  expect(fresh.Data![Attributes.TARGET_CONNECTION_ID]).not.toBe(target.id);
});

describe('assumed role locked to an IMS org (TrustedImsOrgId)', () => {
  const ROLE = { resourceType: ResourceTypes.DESTINATION_CONNECTION, logicalId: 'RoleDestConnectionDestination' };

  /** An `Assumed Role` destination as AepS3Destination emits it: the role ARN in a library-made secret. */
  function roleProps(trustedOrg: string | undefined): Record<string, unknown> {
    const roleSecret = h.aws.putSecret('aep/role-arn', JSON.stringify({ roleArn: 'arn:aws:iam::123456789012:role/aep-export-7Qk2x9Zt' }));
    return {
      ...h.common(),
      [DestinationConnectionProps.NAME]: 'acme-aep-s3-dest-role',
      [DestinationConnectionProps.CONNECTION_SPEC_ID]: AepIds.S3_DESTINATION_CONNECTION_SPEC,
      [DestinationConnectionProps.AUTH_SPEC_NAME]: 'Assumed Role',
      [DestinationConnectionProps.AUTH_SECRET_ARN]: roleSecret,
      [DestinationConnectionProps.AUTH_SECRET_FIELDS]: { s3Role: 'roleArn' },
      [DestinationConnectionProps.TARGET_PARAMS]: PARAMS,
      ...(trustedOrg === undefined ? {} : { [DestinationConnectionProps.TRUSTED_IMS_ORG_ID]: trustedOrg }),
    };
  }

  test('a credential of another org fails the Create before any POST, naming both org ids and the fix', async () => {
    const err = await rejectionOf(() => handler(cfnEvent('Create', roleProps('OTHERORG42@AdobeOrg'), ROLE)));
    expect(err.message).toContain(`belongs to IMS org ${h.aep.credentials.orgId}`);
    expect(err.message).toContain('admits AEP only for IMS org OTHERORG42@AdobeOrg (sts:ExternalId)');
    expect(err.message).toMatch(/set imsOrgId \(on the AepSandbox or S3DestinationAuth\.assumedRole\) to .*or store a credential of org OTHERORG42@AdobeOrg/);
    expect(h.aep.requests.filter((r) => r.method !== 'GET')).toEqual([]);
    expect(h.aep.connections()).toEqual([]);
  });

  test('an Update to an org the credential is not in patches nothing', async () => {
    const before = roleProps(h.aep.credentials.orgId);
    const created = await handler(cfnEvent('Create', before, ROLE));
    h.aep.requests.length = 0;
    const after = { ...roleProps('OTHERORG42@AdobeOrg'), [DestinationConnectionProps.DESCRIPTION]: 'changed' };
    const err = await rejectionOf(() => handler(cfnEvent('Update', after, { ...ROLE, physicalId: created.PhysicalResourceId, oldProps: before })));
    expect(err.message).toContain('OTHERORG42@AdobeOrg');
    expect(writes()).toEqual([]);
  });

  test('the credential of the trusted org creates the pair as before', async () => {
    const res = await handler(cfnEvent('Create', roleProps(h.aep.credentials.orgId), ROLE));
    const [base] = h.aep.connections();
    expect(res.PhysicalResourceId).toBe(base.id);
    expect(base.auth?.specName).toBe('Assumed Role');
    expect(writes()).toEqual(['POST /connections', 'POST /targetConnections']);
  });

  test('a secret corrected after a refusal is read again (the warm container does not keep refusing its cached org)', async () => {
    h.aws.putSecret(h.credentialsArn, JSON.stringify({ ...h.aep.credentials, orgId: 'WRONGORG77@AdobeOrg' }));
    const refused = await rejectionOf(() => handler(cfnEvent('Create', roleProps(h.aep.credentials.orgId), ROLE)));
    expect(refused.message).toContain('belongs to IMS org WRONGORG77@AdobeOrg');
    expect(h.aep.requests).toEqual([]);
    // The operator stores the right org's credential; the retry runs in the same (warm) container.
    h.aws.putSecret(h.credentialsArn, JSON.stringify(h.aep.credentials));
    const res = await handler(cfnEvent('Create', roleProps(h.aep.credentials.orgId), ROLE));
    expect(res.PhysicalResourceId).toBe(h.aep.connections()[0].id);
  });
});
