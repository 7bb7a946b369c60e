/**
 * The stand-in's latency knob (issue 19 §1: deploy wall time with AEP's latency modelled): every
 * request, IMS included, is answered no sooner than `latencyMs` after it arrived. Only lower
 * bounds are asserted: a loaded machine makes answers later, never sooner.
 */
import { AepStandIn } from '../../offline-world/stand-in/aep';

let aep: AepStandIn;
beforeAll(async () => {
  aep = await AepStandIn.start({ latencyMs: 150 });
});
afterAll(async () => aep.close());

async function timed(run: () => Promise<Response>): Promise<number> {
  const t0 = performance.now();
  const res = await run();
  expect(res.status).toBeLessThan(300);
  await res.arrayBuffer();
  return performance.now() - t0;
}

test('every answer, IMS and Flow Service alike, comes at least latencyMs after the request; a reset keeps the knob', async () => {
  const token = async () => fetch(`${aep.imsUrl}/ims/token/v3`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: aep.credentials.clientId, client_secret: aep.credentials.clientSecret, scope: 'openid' }),
  });
  const list = () => fetch(`${aep.flowServiceUrl}/connections`, { headers: aep.flowServiceHeaders(aep.issueToken()) });
  expect(await timed(token)).toBeGreaterThanOrEqual(149);
  expect(await timed(list)).toBeGreaterThanOrEqual(149);
  // Two in a row: each waits its own latency.
  expect(await timed(async () => { await list(); return list(); })).toBeGreaterThanOrEqual(299);
  aep.reset();
  expect(aep.latencyMs).toBe(150);
  expect(await timed(list)).toBeGreaterThanOrEqual(149);
  aep.latencyMs = 0;
  expect(aep.requests.map((r) => r.status)).toEqual([200]);
});
