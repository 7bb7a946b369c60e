/**
 * Ownership markers across regions, accounts and library versions: a marker names the stack's
 * region, account, name, uuid and the logical id; two stacks of one name in two regions sharing
 * a sandbox never adopt or remove each other's objects; objects carrying the marker earlier
 * versions wrote (no region, no account) are still recognised as the stack's own.
 */
import { cfnEvent, STACK_ID, useHarness } from './harness';
import { handler } from '../../src/handler/aep.lambda';
import { adoptionMarker, legacyAdoptionMarker, parseMarker } from '../../src/private/contract';

const h = useHarness();

/** The same stack name and construct, deployed in another region (another uuid, as CloudFormation mints one per stack). */
const EU_STACK_ID = 'arn:aws:cloudformation:eu-west-1:123456789012:stack/aep-test/7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d';
/** The same again in another account of the same region. */
const OTHER_ACCOUNT_STACK_ID = 'arn:aws:cloudformation:us-east-1:210987654321:stack/aep-test/1b2c3d4e-5f60-4718-9a2b-3c4d5e6f7a8b';

function inStack(stackId: string, event: ReturnType<typeof cfnEvent>) {
  return { ...event, StackId: stackId };
}

async function markWithLegacy(id: string, stackId: string, logicalId = 'Connection1') {
  await h.aep.uiPatch('/connections', id, [{ op: 'replace', path: '/description', value: `Managed by CloudFormation ${legacyAdoptionMarker(stackId, logicalId)}` }]);
}

test('the marker names region, account, stack name, stack uuid and logical id; the doctor reads both it and the earlier one', () => {
  expect(adoptionMarker(STACK_ID, 'Connection1')).toBe('[cdk-aep-s3:us-east-1:123456789012:aep-test/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0/Connection1]');
  expect(adoptionMarker(EU_STACK_ID, 'Connection1')).not.toBe(adoptionMarker(STACK_ID, 'Connection1'));
  expect(parseMarker(`x ${adoptionMarker(EU_STACK_ID, 'Connection1')}`)).toEqual({
    retired: false, region: 'eu-west-1', account: '123456789012', stackName: 'aep-test', stackUuid: '7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d', logicalId: 'Connection1',
  });
  expect(parseMarker(`x ${legacyAdoptionMarker(STACK_ID, 'Connection1')}`.replace('[cdk-aep-s3:', '[cdk-aep-s3-retained:'))).toEqual({
    retired: true, stackName: 'aep-test', stackUuid: '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0', logicalId: 'Connection1',
  });
});

describe('two stacks of one name and construct, in two regions or two accounts, sharing a sandbox', () => {
  test.each([['another region', EU_STACK_ID], ['another account', OTHER_ACCOUNT_STACK_ID]])(
    '%s: the Create makes its own connection, and each Delete removes only its own', async (_n, otherStackId) => {
      const props = h.destinationAccessKeyProps(h.seedKey());
      const { PhysicalResourceId: ours } = await handler(cfnEvent('Create', props));
      const { PhysicalResourceId: theirs } = await handler(inStack(otherStackId, cfnEvent('Create', props)));
      expect(theirs).not.toBe(ours);
      await handler(cfnEvent('Delete', props, { physicalId: ours }));
      expect(h.aep.connections().map((c) => c.id)).toEqual([theirs]);
    });

  test('objects of the other region\'s stack still carrying the earlier marker are never adopted nor removed as twins', async () => {
    const props = h.destinationAccessKeyProps(h.seedKey());
    const { PhysicalResourceId: theirs } = await handler(inStack(EU_STACK_ID, cfnEvent('Create', props)));
    await markWithLegacy(theirs, EU_STACK_ID);
    const { PhysicalResourceId: ours } = await handler(cfnEvent('Create', props));
    expect(ours).not.toBe(theirs);
    await handler(cfnEvent('Update', props, { physicalId: ours, oldProps: props }));
    await handler(cfnEvent('Delete', props, { physicalId: ours }));
    expect(h.aep.connections().map((c) => c.id)).toEqual([theirs]);
  });
});

describe('objects made by the previous version (the marker without region and account)', () => {
  test('an Update of the existing physical id patches it in place and rewrites its marker', async () => {
    const props = h.destinationAccessKeyProps(h.seedKey());
    const { PhysicalResourceId: id } = await handler(cfnEvent('Create', props));
    await markWithLegacy(id, STACK_ID);
    const res = await handler(cfnEvent('Update', { ...props, Description: 'Renamed' }, { physicalId: id, oldProps: props }));
    expect(res.PhysicalResourceId).toBe(id);
    expect(h.aep.getConnection(id)!.description).toBe(`Renamed ${adoptionMarker(STACK_ID, 'Connection1')}`);
  });

  test('a Create retried after the previous version\'s POST was applied adopts that connection instead of making a second', async () => {
    const props = h.destinationAccessKeyProps(h.seedKey());
    const { PhysicalResourceId: id } = await handler(cfnEvent('Create', props));
    await markWithLegacy(id, STACK_ID);
    const res = await handler(cfnEvent('Create', props));
    expect(res.PhysicalResourceId).toBe(id);
    expect(h.aep.connections()).toHaveLength(1);
    expect(h.aep.getConnection(id)!.description).toContain(adoptionMarker(STACK_ID, 'Connection1'));
  });

  test('a twin carrying the earlier marker is removed by the Delete, so nothing of the stack outlives it', async () => {
    const props = h.destinationAccessKeyProps(h.seedKey());
    const { PhysicalResourceId: id } = await handler(cfnEvent('Create', props));
    const { PhysicalResourceId: twin } = await handler(cfnEvent('Create', props, { logicalId: 'Other' }));
    await markWithLegacy(twin, STACK_ID);
    await handler(cfnEvent('Delete', props, { physicalId: id }));
    expect(h.aep.connections()).toEqual([]);
  });
});
