/**
 * The AEP stand-in's applied-but-lost and delayed-application faults, over real HTTP with an
 * axios client using a short timeout, as the handler's client would see them.
 */
import axios, { AxiosResponse } from 'axios';
import { findSecretLeaks } from '../../offline-world/invariants';
import { AepStandIn, DEFAULT_AEP_CREDENTIALS, fakeAccessKeyId, fakeSecretAccessKey, fakeSessionToken, MASKED } from '../../offline-world/stand-in';
import { AepIds } from '../../src/private/contract';

const DEST = AepIds.S3_DESTINATION_CONNECTION_SPEC;
const SOURCE = AepIds.S3_SOURCE_CONNECTION_SPEC;
const KEY = { s3AccessKey: fakeAccessKeyId('AKIA', 'faults'), s3SecretKey: fakeSecretAccessKey('faults') };
/** The client timeout of the calls that expect to time out (a fault that never answers). */
const TIMEOUT_MS = 150;
/**
 * Every other call: long enough that a loaded CI machine never turns an expected answer (or an
 * expected reset) into a client timeout.
 */
const ANSWER_TIMEOUT_MS = 10_000;

function destination(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'acme-aep-s3-dest',
    auth: { specName: 'Access Key', params: { ...KEY } },
    connectionSpec: { id: DEST, version: '1.0' },
    ...overrides,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('AEP stand-in: applied-but-lost and delayed-application faults', () => {
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

  function call(
    method: string, path: string, body?: unknown, headers: Record<string, string> = {}, timeout = ANSWER_TIMEOUT_MS,
  ): Promise<AxiosResponse> {
    return axios.request({
      method,
      url: `${aep.flowServiceUrl}${path}`,
      data: body === undefined ? undefined : JSON.stringify(body),
      headers: { ...aep.flowServiceHeaders(token), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      timeout,
      validateStatus: () => true,
    });
  }

  async function listIds(): Promise<string[]> {
    const res = await call('GET', '/connections');
    expect(res.status).toBe(200);
    return res.data.items.map((item: { id: string }) => item.id);
  }

  describe("apply: 'now' (the write commits, the response is lost)", () => {
    test('reset after applying: the client sees a dropped socket, AEP holds exactly one connection', async () => {
      aep.inject({ match: { method: 'POST', path: '/connections' }, kind: 'reset', apply: 'now' });
      await expect(call('POST', '/connections', destination())).rejects.toThrow(/socket hang up|ECONNRESET/);
      expect(aep.connections()).toHaveLength(1);
      expect(await listIds()).toEqual([aep.connections()[0].id]);
      expect(aep.requests[0]).toMatchObject({ status: 0, fault: 'reset', applied: { status: 201, body: { id: aep.connections()[0].id } } });
    });

    test.each([504, 502])('status %i after applying: the client sees the error, AEP holds exactly one connection', async (status) => {
      aep.inject({ match: { method: 'POST', path: '/connections' }, kind: 'status', status, apply: 'now' });
      const res = await call('POST', '/connections', destination());
      expect(res.status).toBe(status);
      expect(res.data).toMatchObject({ errorCode: String(status) });
      expect(await listIds()).toHaveLength(1);
      expect(aep.requests[0]).toMatchObject({ status, response: { errorCode: String(status) }, applied: { status: 201 } });
    });

    test('timeout after applying: no response until the client gives up; the connection exists', async () => {
      aep.inject({ match: { method: 'POST', path: '/connections' }, kind: 'timeout', apply: 'now' });
      const started = Date.now();
      await expect(call('POST', '/connections', destination(), {}, TIMEOUT_MS)).rejects.toThrow(/timeout/);
      expect(Date.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
      expect(await listIds()).toHaveLength(1);
      expect(aep.requests[0]).toMatchObject({ status: 0, fault: 'timeout', applied: { status: 201 } });
    });

    test("timeout without apply: nothing is written (a lost request), the same fault with apply 'never'", async () => {
      aep.inject({ match: { method: 'POST' }, kind: 'timeout' });
      await expect(call('POST', '/connections', destination(), {}, TIMEOUT_MS)).rejects.toThrow(/timeout/);
      aep.inject({ match: { method: 'POST' }, kind: 'status', status: 504, apply: 'never' });
      expect((await call('POST', '/connections', destination())).status).toBe(504);
      expect(aep.connections()).toEqual([]);
      expect(aep.requests.map((r) => r.applied)).toEqual([undefined, undefined]);
    });

    test('an applied PATCH lost to a 504 still changes the etag: the retry with the old etag gets 412', async () => {
      const created = (await call('POST', '/connections', destination())).data;
      aep.inject({ match: { method: 'PATCH' }, kind: 'status', status: 504, apply: 'now' });
      const patch = [{ op: 'replace', path: '/name', value: 'renamed' }];
      expect((await call('PATCH', `/connections/${created.id}`, patch, { 'if-match': created.etag })).status).toBe(504);
      expect(aep.getConnection(created.id)!.name).toBe('renamed');
      expect((await call('PATCH', `/connections/${created.id}`, patch, { 'if-match': created.etag })).status).toBe(412);
    });

    test('an applied DELETE lost to a reset: the retry gets 404', async () => {
      const { id } = (await call('POST', '/connections', destination())).data;
      aep.inject({ match: { method: 'DELETE' }, kind: 'reset', apply: 'now' });
      await expect(call('DELETE', `/connections/${id}`)).rejects.toThrow(/socket hang up|ECONNRESET/);
      expect(aep.connections()).toEqual([]);
      expect((await call('DELETE', `/connections/${id}`)).status).toBe(404);
    });

    test('an applied request is validated like any other: an invalid body is rejected and recorded, nothing stored', async () => {
      aep.inject({ match: { method: 'POST' }, kind: 'status', status: 504, apply: 'now' });
      const bad = destination({ auth: { specName: 'Access Key', params: { ...KEY, s3AccessKey: 'bad' } } });
      expect((await call('POST', '/connections', bad)).status).toBe(504);
      expect(aep.connections()).toEqual([]);
      expect(aep.validationFailures).toHaveLength(1);
      expect(aep.requests[0].applied).toMatchObject({ status: 400 });
    });
  });

  describe("apply: 'later' (the write lands after the client saw the error)", () => {
    test('504 now, the connection appears applyAfterMs later with a fresh id', async () => {
      aep.inject({ match: { method: 'POST', path: '/connections' }, kind: 'status', status: 504, apply: 'later', applyAfterMs: 200 });
      const before = Date.now();
      expect((await call('POST', '/connections', destination())).status).toBe(504);
      expect(aep.pendingApplications).toBe(1);
      expect(await listIds()).toEqual([]);
      await sleep(80);
      expect(await listIds()).toEqual([]);
      await aep.settle();
      expect(Date.now() - before).toBeGreaterThanOrEqual(195);
      expect(aep.pendingApplications).toBe(0);
      const ids = await listIds();
      expect(ids).toHaveLength(1);
      // A normal create right after gets its own id.
      const second = (await call('POST', '/connections', destination())).data.id;
      expect(second).not.toBe(ids[0]);
      expect(aep.requests[0]).toMatchObject({ status: 504, applied: { status: 201, body: { id: ids[0] } } });
    });

    test('reset now, connection later; an identical retry in between makes a second one (nothing dedupes for the client)', async () => {
      aep.inject({ match: { method: 'POST', path: '/connections' }, kind: 'reset', apply: 'later', applyAfterMs: 100 });
      await expect(call('POST', '/connections', destination())).rejects.toThrow(/socket hang up|ECONNRESET/);
      expect((await call('POST', '/connections', destination())).status).toBe(201);
      expect(aep.connections()).toHaveLength(1);
      await aep.settle();
      const all = aep.connections();
      expect(all).toHaveLength(2);
      expect(new Set(all.map((c) => c.id)).size).toBe(2);
    });

    test('timeout now, connection later', async () => {
      aep.inject({ match: { method: 'POST' }, kind: 'timeout', apply: 'later', applyAfterMs: TIMEOUT_MS * 2 });
      await expect(call('POST', '/connections', destination(), {}, TIMEOUT_MS)).rejects.toThrow(/timeout/);
      expect(aep.connections()).toEqual([]);
      await aep.settle();
      expect(await listIds()).toHaveLength(1);
    });

    test('a delayed application is validated when applied: an invalid body never appears and is recorded', async () => {
      aep.inject({ match: { method: 'POST' }, kind: 'status', status: 502, apply: 'later', applyAfterMs: 20 });
      expect((await call('POST', '/connections', destination({ connectionSpec: { id: DEST } }))).status).toBe(502);
      await aep.settle();
      expect(aep.connections()).toEqual([]);
      expect(aep.requests[0].applied).toMatchObject({ status: 422 });
      expect(aep.validationFailures).toEqual([expect.stringContaining('POST /data/foundation/flowservice/connections')]);
    });

    test('flushPending applies now without waiting', async () => {
      aep.inject({ match: { method: 'POST' }, kind: 'status', status: 504, apply: 'later', applyAfterMs: 60_000 });
      expect((await call('POST', '/connections', destination())).status).toBe(504);
      aep.flushPending();
      expect(aep.pendingApplications).toBe(0);
      expect(await listIds()).toHaveLength(1);
    });

    test('reset() drops pending applications: nothing from before lands in the fresh world', async () => {
      aep.inject({ match: { method: 'POST' }, kind: 'status', status: 504, apply: 'later', applyAfterMs: 30 });
      expect((await call('POST', '/connections', destination())).status).toBe(504);
      aep.reset();
      await sleep(60);
      expect(aep.connections()).toEqual([]);
      expect(aep.pendingApplications).toBe(0);
    });
  });

  describe("kind 'eventual' (201 now, visible later)", () => {
    test('the id is returned at once but GET, list, PATCH, DELETE and targets see it only after visibleAfterMs', async () => {
      aep.inject({ match: { method: 'POST', path: '/connections' }, kind: 'eventual', visibleAfterMs: 200 });
      const before = Date.now();
      const created = await call('POST', '/connections', destination());
      expect(created.status).toBe(201);
      const { id, etag } = created.data;
      expect(aep.getConnection(id)).toBeDefined(); // stored, not yet visible
      expect(aep.isVisible(id)).toBe(false);
      expect((await call('GET', `/connections/${id}`)).status).toBe(404);
      expect(await listIds()).toEqual([]);
      expect((await call('GET', '/connections?count=true')).data).toEqual({ count: 0 });
      expect((await call('PATCH', `/connections/${id}`, [{ op: 'replace', path: '/name', value: 'x' }], { 'if-match': etag })).status).toBe(404);
      expect((await call('DELETE', `/connections/${id}`)).status).toBe(404);
      const target = {
        name: 't',
        baseConnectionId: id,
        params: { mode: 'Server-to-server', bucketName: 'acme-aep-exports', path: 'aep', fileType: 'JSON', compression: 'NONE' },
        connectionSpec: { id: DEST, version: '1.0' },
      };
      expect((await call('POST', '/targetConnections', target)).status).toBe(400);
      aep.resetRecording();

      await aep.settle();
      expect(Date.now() - before).toBeGreaterThanOrEqual(195);
      expect(aep.isVisible(id)).toBe(true);
      expect((await call('GET', `/connections/${id}`)).data.items[0].id).toBe(id);
      expect(await listIds()).toEqual([id]);
      expect((await call('POST', '/targetConnections', target)).status).toBe(201);
      expect(aep.validationFailures).toEqual([]);
    });

    test('target connections can lag too; non-create requests matched are handled normally', async () => {
      const { id } = (await call('POST', '/connections', destination())).data;
      aep.inject({ match: { path: /targetConnections|connections\/[^/]+$/ }, kind: 'eventual', visibleAfterMs: 50, times: 2 });
      expect((await call('GET', `/connections/${id}`)).status).toBe(200); // consumed, normal
      const target = (await call('POST', '/targetConnections', {
        name: 't',
        baseConnectionId: id,
        params: { mode: 'Server-to-server', bucketName: 'acme-aep-exports', path: 'aep', fileType: 'JSON', compression: 'NONE' },
        connectionSpec: { id: DEST, version: '1.0' },
      })).data;
      expect((await call('GET', `/targetConnections/${target.id}`)).status).toBe(404);
      await aep.settle();
      expect((await call('GET', `/targetConnections/${target.id}`)).status).toBe(200);
    });
  });

  test('invalid fault specs are refused', () => {
    expect(() => aep.inject({ kind: 'status', status: 504, apply: 'later' })).toThrow(/applyAfterMs/);
    expect(() => aep.inject({ kind: 'status', status: 504, applyAfterMs: 5 })).toThrow(/only applies with apply 'later'/);
    expect(() => aep.inject({ kind: 'delay', delayMs: 5, apply: 'now' })).toThrow(/takes no apply/);
    expect(() => aep.inject({ kind: 'expiredToken', apply: 'later', applyAfterMs: 1 })).toThrow(/takes no apply/);
    expect(() => aep.inject({ kind: 'eventual' })).toThrow(/visibleAfterMs/);
    expect(() => aep.inject({ kind: 'reset', visibleAfterMs: 5 })).toThrow(/only applies to FaultSpec kind 'eventual'/);
    expect(aep.pendingFaults).toBe(0);
  });

  describe('secrets stay masked and recordings stay clean', () => {
    const session = { s3AccessKey: fakeAccessKeyId('ASIA', 'f'), s3SecretKey: fakeSecretAccessKey('f'), s3SessionToken: fakeSessionToken('f') };
    const role = 'arn:aws:iam::111122223333:role/aep-export-7Qk2x9';
    const secrets = [KEY.s3SecretKey, session.s3SecretKey, session.s3SessionToken, role, DEFAULT_AEP_CREDENTIALS.clientSecret];

    test('GET by id and list mask s3SecretKey, s3SessionToken and s3Role; no piece of any secret in any response', async () => {
      await call('POST', '/connections', destination());
      await call('POST', '/connections', { name: 'src', auth: { specName: 'Access Key', params: { ...session } }, connectionSpec: { id: SOURCE, version: '1.0' } });
      await call('POST', '/connections', destination({ auth: { specName: 'Assumed Role', params: { s3Role: role } } }));
      expect(aep.connections()).toHaveLength(3);
      const texts: Record<string, string> = {};
      const list = await axios.get(`${aep.flowServiceUrl}/connections`, { headers: aep.flowServiceHeaders(token), transformResponse: (d) => d });
      texts.list = list.data;
      for (const c of aep.connections()) {
        const one = await axios.get(`${aep.flowServiceUrl}/connections/${c.id}`, { headers: aep.flowServiceHeaders(token), transformResponse: (d) => d });
        texts[c.id] = one.data;
        const params = JSON.parse(one.data).items[0].auth.params;
        for (const key of ['s3SecretKey', 's3SessionToken', 's3Role']) {
          if (key in c.auth.params) {
            expect(params[key]).toBe(MASKED);
          }
        }
        expect(params.s3AccessKey).toBe(c.auth.params.s3AccessKey); // not a secret, returned as is
      }
      expect(findSecretLeaks(texts, secrets)).toEqual([]);
    });

    test('every request, including applied and delayed ones, is recorded with its response; no secret in the recordings', async () => {
      aep.inject({ match: { method: 'POST' }, kind: 'status', status: 504, apply: 'now' });
      aep.inject({ match: { method: 'POST' }, kind: 'reset', apply: 'later', applyAfterMs: 10 });
      await call('POST', '/connections', destination());
      await call('POST', '/connections', destination()).catch(() => undefined);
      const [first] = aep.connections();
      await call('PATCH', `/connections/${first.id}`, [{ op: 'replace', path: '/auth/params', value: { ...KEY } }], { 'if-match': first.etag });
      await call('GET', `/connections/${first.id}`);
      await aep.settle();
      expect(aep.requests.map((r) => [r.method, r.status, r.applied?.status])).toEqual([
        ['POST', 504, 201], ['POST', 0, 201], ['PATCH', 200, undefined], ['GET', 200, undefined],
      ]);
      expect(aep.requests.every((r) => r.body !== undefined || r.method === 'GET')).toBe(true);
      expect(aep.requests[3].response).toMatchObject({ items: [{ id: first.id }] });
      expect(findSecretLeaks(aep.requests.map((r) => JSON.stringify(r)), secrets)).toEqual([]);
    });
  });
});
