/**
 * A destination with an audience dataflow changes its export folder and file type, in both AEP
 * worlds: one that takes `PATCH /targetConnections` (undocumented in the destinations spec) and
 * one that refuses it. Accepted: the target is patched in place, the flow untouched. Refused: the
 * destination's custom resource replaces its target on the same base connection, the flow
 * follows the new TargetConnectionId in the same deployment, and CloudFormation's cleanup removes
 * the old flow and the old target; the world is consistent either way, and `cdk destroy` leaves nothing.
 */
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ScenarioScope, ScenarioWorld } from '../../offline-world/scenario';
import type { TargetConnectionPatch } from '../../offline-world/stand-in';
import { AepS3Destination, AudienceSchedule, ExportFileType } from '../../src';
import { Attributes, DataflowResourceTypes, ResourceTypes } from '../../src/private/contract';

jest.setTimeout(90_000);

let w: ScenarioWorld;
let n = 0;
beforeEach(async () => {
  w = await ScenarioWorld.start(`TargetPatch${++n}`);
});
afterEach(async () => {
  await w.close();
});

function app(folderPath: string, fileType: ExportFileType) {
  return ({ stack, sandbox }: ScenarioScope) => {
    const destination = new AepS3Destination(stack, 'Exports', {
      sandbox: sandbox(), bucket: s3.Bucket.fromBucketName(stack, 'OutBucket', 'acme-aep-exports'), folderPath, fileType,
    });
    destination.addDataflow('Audiences', {
      audiences: [{ audienceId: 'seg-1', schedule: AudienceSchedule.onceFull({ startDate: '2025-02-01' }) }],
    });
  };
}

function pair() {
  const r = w.sim.resources().find((x) => x.type === ResourceTypes.DESTINATION_CONNECTION)!;
  const attributes = w.sim.resource(r.logicalId)!.attributes;
  return { physicalId: r.physicalId, base: attributes[Attributes.CONNECTION_ID], target: attributes[Attributes.TARGET_CONNECTION_ID] };
}

function flowId(): string {
  return w.sim.resources().find((r) => r.type === DataflowResourceTypes.FLOW)!.physicalId;
}

test.each([
  ['accepted', false],
  ['refused-405', true],
  ['refused-400', true],
] as Array<[TargetConnectionPatch, boolean]>)('PATCH /targetConnections %s: folder and file type change, the flow exports to the new settings', async (mode, replaced) => {
  w.aep.setTargetConnectionPatch(mode);
  expect((await w.deploy(app('aep/v1', ExportFileType.CSV))).status).toBe('CREATE_COMPLETE');
  const before = pair();
  const flowBefore = flowId();

  w.aep.resetRecording();
  const result = await w.deploy(app('aep/v2', ExportFileType.JSON));
  expect(result.status).toBe('UPDATE_COMPLETE');
  expect(w.sim.leftBehind).toEqual([]);
  const after = pair();
  expect(after.base).toBe(before.base);
  const targets = w.aep.targetConnections();
  expect(targets).toHaveLength(1);
  expect(targets[0]).toMatchObject({ id: after.target, baseConnectionId: before.base, params: expect.objectContaining({ path: 'aep/v2', fileType: 'JSON' }) });
  const flows = w.aep.flows();
  expect(flows).toHaveLength(1);
  expect(flows[0].targetConnectionIds).toEqual([after.target]);
  if (replaced) {
    expect(after.target).not.toBe(before.target);
    expect(after.physicalId).toBe(`${before.base}/${after.target}`);
    expect(flows[0].id).not.toBe(flowBefore);
  } else {
    expect(after.target).toBe(before.target);
    expect(flows[0].id).toBe(flowBefore);
  }
  expect(await w.violations()).toEqual([]);
  expect(w.aep.validationFailures).toEqual([]);

  // A second change (the physical id now names the target when it was replaced).
  expect((await w.deploy(app('aep/v3', ExportFileType.PARQUET))).status).toBe('UPDATE_COMPLETE');
  expect(w.aep.targetConnections().map((t) => t.params?.path)).toEqual(['aep/v3']);
  expect(await w.violations()).toEqual([]);

  expect((await w.destroy()).status).toBe('DELETE_COMPLETE');
  expect(w.aep.flows()).toEqual([]);
  expect(w.aep.targetConnections()).toEqual([]);
  expect(w.aep.connections()).toEqual([]);
  expect(w.sim.leftBehind).toEqual([]);
});

test('refused: a later resource fails, the rollback returns to the old target and flow; its cleanup removes the new ones', async () => {
  w.aep.setTargetConnectionPatch('refused-405');
  expect((await w.deploy(app('aep/v1', ExportFileType.CSV))).status).toBe('CREATE_COMPLETE');
  const before = pair();
  const flowBefore = flowId();
  // The flow's replacement is refused once: the deployment fails after the target was replaced.
  w.aep.inject({ match: { method: 'POST', path: '/flows' }, kind: 'status', status: 400, times: 1 });
  w.aep.resetRecording();
  const result = await w.deploy(app('aep/v2', ExportFileType.JSON));
  expect(result.status).toBe('UPDATE_ROLLBACK_COMPLETE');
  // The destination's update succeeded (its target replaced); the flow's replacement is what failed.
  expect(result.failure).toMatch(/^ExportsAudiencesFlow\w*: /);
  const targetWrites = w.aep.requests.filter((r) => /\/targetConnections(\/|$)/.test(r.path) && r.method !== 'GET').map((r) => `${r.method} ${r.status}`);
  expect(targetWrites).toEqual(['PATCH 405', 'POST 201', 'DELETE 202']);
  expect(pair().target).toBe(before.target);
  expect(flowId()).toBe(flowBefore);
  expect(w.aep.targetConnections().map((t) => t.id)).toEqual([before.target]);
  expect(w.aep.flows().map((f) => f.id)).toEqual([flowBefore]);
  expect(w.sim.leftBehind).toEqual([]);
  expect(await w.violations()).toEqual([]);
});
