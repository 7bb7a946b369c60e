/**
 * Runs in the AEP stand-in (DATAFLOWS §3.9): `GET /runs` filters, ordering and paging over real
 * HTTP, and AEP's June-2026 rule (API-NOTES §10) that disables a source dataflow whose runs
 * failed continuously for 30 days, on the stand-in's world clock.
 */
import axios from 'axios';
import { AepStandIn } from '../../offline-world/stand-in';
import type { StoredFlow } from '../../offline-world/stand-in/aep-flows';
import { AUTO_DISABLE_REASON } from '../../offline-world/stand-in/aep-runs';
import { DataflowIds } from '../../src/private/contract';

const DAY = 86_400_000;

/** A flow put straight into the store: runs only need its id, spec, sandbox and state. */
export function seedFlow(aep: AepStandIn, id: string, flowSpecId: string = DataflowIds.CLOUD_STORAGE_FLOW_SPEC, sandbox = 'prod'): StoredFlow {
  const now = Date.now();
  const flow: StoredFlow = {
    id,
    name: `flow ${id}`,
    createdAt: now,
    updatedAt: now,
    createdBy: 'x@AdobeID',
    updatedBy: 'x@AdobeID',
    createdClient: 'x',
    updatedClient: 'x',
    sandboxId: `${sandbox}-id`,
    sandboxName: sandbox,
    imsOrgId: aep.credentials.orgId,
    connectionSpec: { id: '', version: '1.0' },
    state: 'enabled',
    version: '"v1"',
    etag: '"v1"',
    flowSpec: { id: flowSpecId, version: '1.0' },
    sourceConnectionIds: [],
    targetConnectionIds: [],
    transformations: [],
  };
  aep.dataflows.flows.put(flow);
  return flow;
}

describe('AEP stand-in: runs', () => {
  let aep: AepStandIn;
  let token: string;

  beforeAll(async () => {
    aep = await AepStandIn.start();
  });
  afterAll(async () => {
    await aep.close();
  });
  beforeEach(() => {
    aep.reset();
    token = aep.issueToken();
  });

  async function runs(query: string, sandbox = 'prod'): Promise<{ status: number; data: any }> {
    const res = await axios.get(`${aep.flowServiceUrl}/runs?${query}`, { headers: aep.flowServiceHeaders(token, sandbox), validateStatus: () => true, timeout: 10_000 });
    return { status: res.status, data: res.data };
  }

  test('filters on flowId, status and the start window, newest first, paged with continuationToken', async () => {
    seedFlow(aep, 'f1');
    seedFlow(aep, 'f2');
    const t0 = aep.dataflows.runs.now() - 10 * DAY;
    for (let d = 0; d < 10; d++) aep.dataflows.addRun('f1', { status: d % 3 === 0 ? 'Failed' : 'Success', startedAt: t0 + d * DAY, files: d });
    aep.dataflows.addRun('f2', { status: 'Success', startedAt: t0 });

    const all = await runs('property=flowId==f1&orderby=-createdAt');
    expect(all.status).toBe(200);
    expect(all.data.items.map((r: any) => r.metrics.durationSummary.startedAtUTC)).toEqual([...Array(10).keys()].map((d) => t0 + (9 - d) * DAY));
    expect(all.data.items[0].metrics.fileSummary.inputFileCount).toBe(9);

    const failed = await runs('property=flowId==f1&property=metrics.statusSummary.status==Failed');
    expect(failed.data.items).toHaveLength(4);

    const window = await runs(`property=flowId==f1&property=metrics.durationSummary.startedAtUTC>${t0 + 4 * DAY}&property=metrics.durationSummary.startedAtUTC<${t0 + 8 * DAY}`);
    expect(window.data.items).toHaveLength(3);

    const page1 = await runs('property=flowId==f1&limit=4');
    expect(page1.data.items).toHaveLength(4);
    const next = new URL(page1.data._links.next.href);
    const page2 = await runs(next.searchParams.toString());
    expect(page2.data.items).toHaveLength(4);
    expect(page2.data.items[0].id).not.toBe(page1.data.items[3].id);

    // OR of two flows; other sandboxes see none of them.
    expect((await runs('property=flowId==f1,f2')).data.items).toHaveLength(11);
    expect((await runs('property=flowId==f1', 'dev')).data.items).toHaveLength(0);
    expect(aep.contractViolations()).toEqual([]);
  });

  test('refuses what the spec refuses: limit with count (1401-400), filters on unknown properties', async () => {
    seedFlow(aep, 'f1');
    expect((await runs('property=flowId==f1&limit=5&count=true')).status).toBe(400);
    expect((await runs('property=nonsense==1')).status).toBe(400);
    expect((await runs('property=flowId==f1&count=true')).data).toEqual({ count: 0 });
  });

  test('a source flow failing continuously for 30 days is disabled by AEP, with its reason on lastOperation', async () => {
    const flow = seedFlow(aep, 'src');
    const start = aep.dataflows.runs.now();
    aep.dataflows.addRun('src', { status: 'Success', startedAt: start - DAY });
    for (let d = 0; d < 30; d++) {
      aep.dataflows.addRun('src', { status: 'Failed' });
      expect(aep.dataflows.flows.get(flow.id)!.state).toBe('enabled');
      aep.dataflows.runs.advanceClock(DAY);
    }
    // Day 30 after the first failure: the rule applies.
    const read = await axios.get(`${aep.flowServiceUrl}/flows/src`, { headers: aep.flowServiceHeaders(token), timeout: 10_000 });
    expect(read.data.items[0].state).toBe('disabled');
    expect(read.data.items[0].lastOperation).toMatchObject({ operation: 'disable', status: { errors: [AUTO_DISABLE_REASON] } });
  });

  test('one success resets the streak; destination flows are not auto-disabled', () => {
    seedFlow(aep, 'src');
    seedFlow(aep, 'dst', DataflowIds.S3_AUDIENCE_FLOW_SPEC);
    for (let d = 0; d < 40; d++) {
      aep.dataflows.addRun('src', { status: d === 20 ? 'success' : 'Failed' });
      aep.dataflows.addRun('dst', { status: 'Failed' });
      aep.dataflows.runs.advanceClock(DAY);
    }
    expect(aep.dataflows.flows.get('src')!.state).toBe('enabled');
    expect(aep.dataflows.flows.get('dst')!.state).toBe('enabled');
    aep.dataflows.runs.advanceClock(11 * DAY);
    expect(aep.dataflows.flows.get('src')!.state).toBe('disabled');
  });
});
