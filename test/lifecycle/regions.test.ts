/**
 * Stacks of one name and one construct tree in several regions and accounts, sharing one AEP
 * sandbox (one AEP stand-in): each deployment's markers name its own stack (region, account,
 * name, uuid), so no Create adopts another's objects, no Update or Delete removes them as twins,
 * and a failed Create's cleanup removes only what it made.
 */
import * as s3 from 'aws-cdk-lib/aws-s3';
import { SCENARIO_ENV, ScenarioScope, ScenarioWorld } from '../../offline-world/scenario';
import { AepS3Destination, AudienceSchedule } from '../../src';
import { DataflowResourceTypes } from '../../src/private/contract';

jest.setTimeout(120_000);

let w: ScenarioWorld;
afterEach(async () => {
  await w.close();
});

function app(description?: string) {
  return ({ stack, sandbox }: ScenarioScope) => {
    const destination = new AepS3Destination(stack, 'Exports', {
      sandbox: sandbox(), bucket: s3.Bucket.fromBucketName(stack, 'OutBucket', 'acme-aep-exports'), description,
    });
    destination.addDataflow('Audiences', { audiences: [{ audienceId: 'seg-1', schedule: AudienceSchedule.onceFull({ startDate: '2025-02-01' }) }] });
  };
}

/** Every AEP object (connections, target connections, flows) as `id etag`, to prove a stack left the others' untouched. */
function snapshot(ids: readonly string[]): string[] {
  const all = [...w.aep.connections(), ...w.aep.targetConnections(), ...w.aep.flows()];
  return ids.map((id) => { const o = all.find((x) => x.id === id); return `${id} ${o?.etag ?? 'GONE'}`; });
}

// Regions of one account: the CloudFormation simulator evaluates IAM for one account per AWS
// stand-in (two accounts are covered at the handler level, test/handler/markers.test.ts).
test('one stack name in us-east-1, eu-west-1 and ap-southeast-2: each owns its objects through create, update, a failed create and delete', async () => {
  w = await ScenarioWorld.start('Shared');
  const eu = w.addStack('Shared', { account: SCENARIO_ENV.account, region: 'eu-west-1' });
  const third = w.addStack('Shared', { account: SCENARIO_ENV.account, region: 'ap-southeast-2' });

  const usCreate = await w.deploy(app());
  expect(usCreate.failure).toBeUndefined();
  expect(usCreate.status).toBe('CREATE_COMPLETE');
  const euCreate = await eu.deploy(app());
  expect(euCreate.failure).toBeUndefined();
  expect(euCreate.status).toBe('CREATE_COMPLETE');
  // The same AEP custom resources (logical ids) in both: only the stack identity tells them apart.
  const aepResources = (sim: ScenarioWorld['sim']) => sim.resources().filter((r) => r.type.startsWith('Custom::Aep')).map((r) => r.logicalId).sort();
  expect(aepResources(eu.sim)).toEqual(aepResources(w.sim));
  expect(aepResources(w.sim).length).toBeGreaterThanOrEqual(3);
  expect(w.aep.connections()).toHaveLength(2);
  expect(w.aep.flows()).toHaveLength(2);
  expect(w.aep.connections().map((c) => c.description!.replace(/^.*\[cdk-aep-s3:([^:]+:\d+:Shared)\/.*$/, '$1')).sort())
    .toEqual([`eu-west-1:${SCENARIO_ENV.account}:Shared`, `us-east-1:${SCENARIO_ENV.account}:Shared`]);
  const euOwned = ownedBy(eu);
  expect(euOwned).toHaveLength(3);
  const euCreated = snapshot(euOwned);

  // A failed Create in a third region (its target connection refused) rolls back: its cleanup
  // removes its own base connection only.
  w.aep.inject({ match: { method: 'POST', path: '/targetConnections' }, kind: 'status', status: 400, times: 1 });
  expect((await third.deploy(app())).status).toBe('ROLLBACK_COMPLETE');
  expect(w.aep.connections()).toHaveLength(2);
  expect(snapshot(euOwned)).toEqual(euCreated);

  // An in-place update here (descriptions patched, twins looked for) and its Delete leave eu-west-1's objects as they were.
  const euBefore = snapshot(euOwned);
  expect((await w.deploy(app('Renamed'))).status).toBe('UPDATE_COMPLETE');
  expect(snapshot(euOwned)).toEqual(euBefore);
  expect((await w.destroy()).status).toBe('DELETE_COMPLETE');
  expect(snapshot(euOwned)).toEqual(euBefore);
  expect(w.aep.connections().map((c) => c.id)).toEqual([euOwned[0]]);
  expect(await w.violations()).toEqual([]);

  expect((await eu.destroy()).status).toBe('DELETE_COMPLETE');
  expect([...w.aep.connections(), ...w.aep.targetConnections(), ...w.aep.flows()]).toEqual([]);
  expect(await w.violations()).toEqual([]);
});

/** The AEP ids a stack's resources hold: base connection first, then target connection, then the rest. */
function ownedBy(stack: { sim: ScenarioWorld['sim'] }): string[] {
  const ids: string[] = [];
  for (const r of stack.sim.resources()) {
    const res = stack.sim.resource(r.logicalId)!;
    if (res.attributes.ConnectionId) ids.unshift(String(res.attributes.ConnectionId), String(res.attributes.TargetConnectionId));
    else if (r.type === DataflowResourceTypes.FLOW) ids.push(r.physicalId);
  }
  return ids;
}
