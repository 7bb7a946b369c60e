import { cfnEvent, rejectionOf, FAULT_KNOBS, useHarness } from './harness';
import { handler } from '../../src/handler/aep.lambda';
import { AepIds, Attributes, IamRoleLookupProps, RemovalPolicies, ResourceTypes, TargetConnectionProps } from '../../src/private/contract';

const h = useHarness(FAULT_KNOBS);

describe('Custom::AepTargetConnection', () => {
  const TARGET = { resourceType: ResourceTypes.TARGET_CONNECTION, logicalId: 'Exports' };

  async function baseConnection(logicalId = 'Connection1'): Promise<string> {
    const res = await handler(cfnEvent('Create', h.destinationAccessKeyProps(h.seedKey(`aep/key-${logicalId}`)), { logicalId }));
    return res.PhysicalResourceId;
  }

  const targetProps = (baseId: string, params: Record<string, unknown> = {}) => h.targetConnectionProps(baseId, params);

  test('create sends booleans as JSON booleans; update patches in place; delete removes it', async () => {
    const baseId = await baseConnection();
    const props = targetProps(baseId);
    const created = await handler(cfnEvent('Create', props, TARGET));
    const id = created.PhysicalResourceId;
    expect(created.Data).toEqual({ [Attributes.TARGET_CONNECTION_ID]: id, [Attributes.ETAG]: expect.any(String) });
    const stored = h.aep.getTargetConnection(id)!;
    expect(stored.baseConnectionId).toBe(baseId);
    expect(stored.params).toMatchObject({ includeFileManifest: true, fileType: 'CSV' });
    expect(stored.description).toMatch(/^Audience exports \[cdk-aep-s3:.+\/Exports\]$/);

    const next = targetProps(baseId, { path: 'aep/v2/%SEGMENT_ID%', includeFileManifest: 'false' });
    h.aep.inject({ match: { method: 'PATCH' }, kind: 'status', status: 412 });
    const updated = await handler(cfnEvent('Update', next, { ...TARGET, physicalId: id, oldProps: props }));
    expect(updated.PhysicalResourceId).toBe(id);
    expect(h.aep.getTargetConnection(id)!.params).toMatchObject({ path: 'aep/v2/%SEGMENT_ID%', includeFileManifest: false });
    expect(h.aep.requests.filter((r) => r.method === 'PATCH').map((r) => r.status)).toEqual([412, 200]);

    await handler(cfnEvent('Delete', next, { ...TARGET, physicalId: id }));
    expect(h.aep.targetConnections()).toHaveLength(0);
    await expect(handler(cfnEvent('Delete', next, { ...TARGET, physicalId: id }))).resolves.toEqual({ PhysicalResourceId: id });
  });

  test('a retried create adopts the first target connection', async () => {
    const props = targetProps(await baseConnection());
    const first = await handler(cfnEvent('Create', props, TARGET));
    const second = await handler(cfnEvent('Create', props, TARGET));
    expect(second.PhysicalResourceId).toBe(first.PhysicalResourceId);
    expect(h.aep.targetConnections()).toHaveLength(1);
  });

  test('a POST that times out but is applied is adopted', async () => {
    const props = targetProps(await baseConnection());
    h.aep.inject({ match: { method: 'POST', path: '/targetConnections' }, kind: 'delay', delayMs: 400 });
    await handler(cfnEvent('Create', props, TARGET));
    expect(h.aep.targetConnections()).toHaveLength(1);
  });

  test('a new base connection replaces the target connection', async () => {
    const props = targetProps(await baseConnection('A'));
    const { PhysicalResourceId: id } = await handler(cfnEvent('Create', props, TARGET));
    const otherBase = await baseConnection('B');
    const next = targetProps(otherBase);
    const res = await handler(cfnEvent('Update', next, { ...TARGET, physicalId: id, oldProps: props }));
    expect(res.PhysicalResourceId).not.toBe(id);
    expect(h.aep.getTargetConnection(res.PhysicalResourceId)!.baseConnectionId).toBe(otherBase);
  });

  test('retain leaves it in place', async () => {
    const props = { ...targetProps(await baseConnection()), [TargetConnectionProps.REMOVAL_POLICY]: RemovalPolicies.RETAIN };
    const { PhysicalResourceId: id } = await handler(cfnEvent('Create', props, TARGET));
    await handler(cfnEvent('Delete', props, { ...TARGET, physicalId: id }));
    expect(h.aep.getTargetConnection(id)).toBeDefined();
  });
});

describe('Custom::AepIamRoleLookup', () => {
  const LOOKUP = { resourceType: ResourceTypes.IAM_ROLE_LOOKUP, logicalId: 'AepRole' };
  const props = () => ({ ...h.common(), [IamRoleLookupProps.CONNECTION_SPEC_ID]: AepIds.S3_SOURCE_CONNECTION_SPEC });

  test('returns AEP\'s IAM role with a stable physical id', async () => {
    h.aep.setIamRoleArn('arn:aws:iam::987654321098:role/aep/ingest-va6');
    const res = await handler(cfnEvent('Create', props(), LOOKUP));
    expect(res).toEqual({
      PhysicalResourceId: `aep-iam-role:prod:${AepIds.S3_SOURCE_CONNECTION_SPEC}`,
      Data: { [Attributes.IAM_ROLE_ARN]: 'arn:aws:iam::987654321098:role/aep/ingest-va6' },
    });
    const req = h.aep.requests.find((r) => r.path.endsWith('/configs'))!;
    expect(req.query).toEqual({ authType: 'IamBasedAuthentication' });
    const again = await handler(cfnEvent('Update', props(), { ...LOOKUP, physicalId: res.PhysicalResourceId, oldProps: props() }));
    expect(again.PhysicalResourceId).toBe(res.PhysicalResourceId);
  });

  test('a malformed role fails clearly, quoting the value', async () => {
    h.aep.setIamRoleArn('{IAM_ROLE}');
    const err = await rejectionOf(() => handler(cfnEvent('Create', props(), LOOKUP)));
    expect(err.message).toMatch(/AEP returned "\{IAM_ROLE\}" as configParams.IAMRole, which is not an IAM role ARN/);
  });

  test('delete calls nothing', async () => {
    h.aep.resetRecording();
    await expect(handler(cfnEvent('Delete', props(), { ...LOOKUP, physicalId: 'aep-iam-role:prod:x' })))
      .resolves.toEqual({ PhysicalResourceId: 'aep-iam-role:prod:x' });
    expect(h.aep.requests).toEqual([]);
  });
});

describe('dispatch', () => {
  test('an unknown resource type fails Create but lets Delete through', async () => {
    const other = { resourceType: 'Custom::Other' };
    await expect(handler(cfnEvent('Create', h.common(), other))).rejects.toThrow(/Unknown resource type Custom::Other/);
    await expect(handler(cfnEvent('Delete', h.common(), { ...other, physicalId: 'p' }))).resolves.toEqual({ PhysicalResourceId: 'p' });
  });
});
