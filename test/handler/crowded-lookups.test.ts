import { cfnEvent, unfaulted, FAULT_KNOBS, useHarness } from './harness';
import { forgetConnectionSpecs } from '../../src/aep/connection-specs';
import { handler } from '../../src/handler/aep.lambda';
import {
  Attributes, DataflowConnectionProps, DataflowIds, DataflowResourceTypes, DestinationConnectionProps, ResourceTypes,
} from '../../src/private/contract';

/**
 * Issue 19 §1: what the handler asks Flow Service must not grow with the sandbox. The adoption and
 * twin lookups of base connections narrow on the server by name (filterable on connections,
 * API-NOTES §3.5) and still check the marker here; so do those of source connections. The crowd is
 * foreign S3 destinations made in the UI, each with its audience export (AepStandIn.crowd), which
 * share the connection specs (S3 destination, Profile Store) and so pass a spec-only filter.
 */
const h = useHarness(FAULT_KNOBS);
const PAIR = { resourceType: ResourceTypes.DESTINATION_CONNECTION, logicalId: 'ExportsConnectionDestination' };
const PARAMS = { mode: 'Server-to-server', bucketName: 'acme-aep-exports', path: 'aep/%SEGMENT_NAME%', fileType: 'CSV', compression: 'NONE' };

function props(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return h.destinationAccessKeyProps(h.seedKey('aep/pair-key'), { [DestinationConnectionProps.TARGET_PARAMS]: PARAMS, ...extra });
}

function flowRequests(): string[] {
  return h.aep.requests.filter((r) => r.path.includes('/flowservice/')).map((r) => `${r.method} ${r.path.replace(/^.*\/flowservice/, '')}`);
}

test('a Create of one destination makes the same Flow Service requests beside 1,000 foreign destinations as in an empty sandbox', () => unfaulted(async () => {
  // Two destinations in one world, each with the connection spec read afresh (a cold container):
  // the first in an empty sandbox, the second beside the crowd.
  const createBeside = async (crowd: number, name: string, logicalId: string) => {
    h.aep.crowd(crowd);
    forgetConnectionSpecs();
    h.aep.resetRecording();
    const created = await handler(cfnEvent('Create', props({ Name: name }), { ...PAIR, logicalId }));
    // The next resetRecording drops what the harness checks after the test: checked here.
    expect(h.aep.validationFailures).toEqual([]);
    expect(h.aep.contractViolations()).toEqual([]);
    return { created, requests: flowRequests() };
  };
  const empty = (await createBeside(0, 'acme-aep-s3-first', 'FirstDestination')).requests;
  const { created: res, requests: crowded } = await createBeside(1_000, 'acme-aep-s3-dest', 'ExportsConnectionDestination');
  const shape = (requests: string[]) => requests.map((r) => r.replace(/\/[0-9a-f-]{36}/g, '/{id}'));
  expect(shape(crowded)).toEqual(shape(empty));
  expect(crowded.length).toBe(empty.length);
  // The connections list asked only for our name; every page of it was one page.
  const lists = h.aep.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/connections'));
  expect(lists.length).toBeGreaterThan(0);
  for (const list of lists) {
    expect(list.query.property).toBe('name=="acme-aep-s3-dest"');
    expect(list.query.continuationToken).toBeUndefined();
  }
  expect(h.aep.connections().filter((c) => c.id === res.PhysicalResourceId)).toHaveLength(1);
  expect(h.aep.connections()).toHaveLength(1_002);
}));

test('a base connection POST applied but answered 504, behind 2,100 newer foreign destinations: adopted, not made twice', async () => {
  h.aep.crowd(2_100, 'prod', true);
  h.aep.inject({ kind: 'status', status: 504, apply: 'now', match: { method: 'POST', path: '/connections' } });
  const res = await handler(cfnEvent('Create', props(), PAIR));
  const ours = h.aep.connections().filter((c) => c.name === 'acme-aep-s3-dest');
  expect(ours.map((c) => c.id)).toEqual([res.PhysicalResourceId]);
  expect(h.aep.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/connections')).map((r) => r.status)).toEqual([504]);
  expect(h.aep.getTargetConnection(String(res.Data![Attributes.TARGET_CONNECTION_ID]))!.baseConnectionId).toBe(res.PhysicalResourceId);
});

test('a late twin under the name of the previous deploy is removed by the Update that renames, beside 2,100 newer foreign destinations', async () => {
  const before = props();
  const created = await handler(cfnEvent('Create', before, PAIR));
  const ours = h.aep.connections()[0];
  // The earlier POST of the Create, applied late: same marker, same (old) name, a new id.
  h.aep.crowd(2_100, 'prod', true);
  const twinId = 'late-twin-0000';
  h.aep.putConnection({ ...ours, id: twinId, createdAt: ours.createdAt + 1 });
  const after = { ...before, Name: 'acme-aep-s3-dest-renamed' };
  await handler(cfnEvent('Update', after, { ...PAIR, physicalId: created.PhysicalResourceId, oldProps: before }));
  expect(h.aep.getConnection(twinId)?.id).toBeUndefined();
  expect(h.aep.getConnection(created.PhysicalResourceId)!.name).toBe('acme-aep-s3-dest-renamed');
});

const PROFILES = { resourceType: DataflowResourceTypes.SOURCE_CONNECTION, logicalId: 'AudiencesProfileStoreConnection' };

function profileStoreProps(name: string): Record<string, unknown> {
  return {
    ...h.common(),
    [DataflowConnectionProps.NAME]: name,
    [DataflowConnectionProps.DESCRIPTION]: 'Managed by AWS CDK (cdk-aep-s3)',
    [DataflowConnectionProps.CONNECTION_SPEC_ID]: DataflowIds.PROFILE_STORE_SOURCE_SPEC,
  };
}

test('a Profile Store source connection: Create, Update and Delete make the same Flow Service requests beside 1,000 foreign audience exports as in an empty sandbox', () => unfaulted(async () => {
  // Every audience export made in the UI has its own Profile Store source connection: they share
  // the spec, so a lookup narrowed by spec alone pages through all of them (and misses ours past the page cap).
  const lifecycle = async (crowd: number, logicalId: string) => {
    h.aep.crowd(crowd);
    h.aep.resetRecording();
    const before = profileStoreProps(`${logicalId} profiles`);
    const created = await handler(cfnEvent('Create', before, { ...PROFILES, logicalId }));
    const after = { ...before, [DataflowConnectionProps.NAME]: `${logicalId} profiles renamed` };
    await handler(cfnEvent('Update', after, { ...PROFILES, logicalId, physicalId: created.PhysicalResourceId, oldProps: before }));
    await handler(cfnEvent('Delete', after, { ...PROFILES, logicalId, physicalId: created.PhysicalResourceId }));
    expect(h.aep.validationFailures).toEqual([]);
    expect(h.aep.contractViolations()).toEqual([]);
    // A token the previous test's reset expired is refused once (401) and renewed: not the lookup's cost.
    return h.aep.requests.filter((r) => r.path.includes('/flowservice/') && r.status !== 401)
      .map((r) => `${r.method} ${r.path.replace(/^.*\/flowservice/, '')}`);
  };
  const empty = await lifecycle(0, 'First');
  const crowded = await lifecycle(1_000, 'Audiences');
  const shape = (requests: string[]) => requests.map((r) => r.replace(/\/[0-9a-f-]{36}/g, '/{id}'));
  expect(shape(crowded)).toEqual(shape(empty));
  const lists = h.aep.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/sourceConnections'));
  expect(lists.length).toBeGreaterThanOrEqual(3);
  for (const list of lists) expect(list.query.continuationToken).toBeUndefined();
  expect(h.aep.sourceConnections()).toHaveLength(1_000);
}));
