import * as http from 'node:http';
import { cfnEvent, rejectionOf, useHarness } from './harness';
import { closeServer, listen, LOOPBACK, readBody, sendJson } from '../../offline-world/stand-in/http';
import { handler, refreshHandler } from '../../src/handler/aep.lambda';
import { CommonProps, ConnectionProps, HandlerEnvironment, RefreshEventKeys } from '../../src/private/contract';

/**
 * The IMS and Flow Service URLs of an event are only honoured when the function's environment
 * (written at synth) allows that pair: whoever may invoke the function must not be able to send
 * the AEP client secret, or a bearer token, to a server of their choosing.
 */

const h = useHarness();

/** A server that is not the stand-in: records every request and answers like IMS would. */
class ForeignServer {
  static async start(): Promise<ForeignServer> {
    const f = new ForeignServer();
    f.port = await listen(f.server);
    return f;
  }

  readonly requests: Array<{ method?: string; url?: string; body: string }> = [];
  private port = 0;
  private readonly server = http.createServer((req, res) => {
    void readBody(req).then((body) => {
      this.requests.push({ method: req.method, url: req.url, body });
      sendJson(res, 200, { access_token: 'foreign-token-0123456789abcdef', token_type: 'bearer', expires_in: 86_399_000 });
    });
  });

  get url(): string {
    return `http://${LOOPBACK}:${this.port}`;
  }

  close(): Promise<void> {
    return closeServer(this.server);
  }
}

let foreign: ForeignServer;
beforeAll(async () => {
  foreign = await ForeignServer.start();
});
afterAll(async () => {
  await foreign.close();
});
beforeEach(() => {
  foreign.requests.length = 0;
});

const secretReads = () => h.aws.calls.filter((c) => c.service === 'secretsmanager');

describe('an event naming endpoints the stack was not synthesized with', () => {
  test('a foreign IMS URL: refused before any secret is read; the foreign server and AEP get nothing', async () => {
    const key = h.seedKey();
    h.aws.calls.length = 0;
    const props = h.destinationAccessKeyProps(key, { [CommonProps.IMS_URL]: foreign.url });
    const err = await rejectionOf(() => handler(cfnEvent('Create', props)));
    expect(err.message).toContain(`IMS URL '${foreign.url}' is not allowed`);
    expect(err.message).toContain(HandlerEnvironment.ALLOWED_ENDPOINTS);
    expect(err.message).toContain(`Allowed: ${h.aep.flowServiceUrl} with ${h.aep.imsUrl}`);
    expect(foreign.requests).toEqual([]);
    expect(secretReads()).toEqual([]);
    expect(h.aep.requests).toEqual([]);
    expect(h.aep.connections()).toEqual([]);
  });

  test('a foreign Flow Service URL with the allowed IMS URL: refused, no token is fetched', async () => {
    const props = h.destinationAccessKeyProps(h.seedKey(), { [CommonProps.FLOW_SERVICE_URL]: `${foreign.url}/data/foundation/flowservice` });
    h.aws.calls.length = 0;
    const err = await rejectionOf(() => handler(cfnEvent('Create', props)));
    expect(err.message).toContain(`Flow Service URL '${foreign.url}/data/foundation/flowservice' is not allowed`);
    expect(foreign.requests).toEqual([]);
    expect(secretReads()).toEqual([]);
    expect(h.aep.requests).toEqual([]);
  });

  test('allowed URLs of two different pairs are not combined into a pair the stack never had', async () => {
    const other = `${foreign.url}/data/foundation/flowservice`;
    process.env[HandlerEnvironment.ALLOWED_ENDPOINTS] = JSON.stringify([[h.aep.flowServiceUrl, foreign.url], [other, h.aep.imsUrl]]);
    try {
      const err = await rejectionOf(() => handler(cfnEvent('Create', h.destinationAccessKeyProps(h.seedKey()))));
      expect(err.message).toContain(`Flow Service URL '${h.aep.flowServiceUrl}' with IMS URL '${h.aep.imsUrl}' is not an allowed pair`);
    } finally {
      process.env[HandlerEnvironment.ALLOWED_ENDPOINTS] = JSON.stringify([[h.aep.flowServiceUrl, h.aep.imsUrl]]);
    }
    expect(foreign.requests).toEqual([]);
    expect(secretReads()).toEqual([]);
  });

  test('a Delete is refused too (it would fetch a token with the same credential)', async () => {
    const created = await handler(cfnEvent('Create', h.destinationAccessKeyProps(h.seedKey())));
    h.aws.calls.length = 0;
    h.aep.resetRecording();
    const props = { ...h.destinationAccessKeyProps(h.seedKey()), [CommonProps.IMS_URL]: foreign.url };
    const err = await rejectionOf(() => handler(cfnEvent('Delete', props, { physicalId: created.PhysicalResourceId })));
    expect(err.message).toContain(`IMS URL '${foreign.url}' is not allowed`);
    expect(foreign.requests).toEqual([]);
    expect(secretReads()).toEqual([]);
    expect(h.aep.getConnection(created.PhysicalResourceId)).toBeDefined();
  });

  test('the scheduled refresh: a foreign IMS URL in its input is refused before the long-term key is read', async () => {
    const key = h.seedKey();
    const created = await handler(cfnEvent('Create', h.sourceSessionTokenProps(key, 3600)));
    h.rememberStoredSecrets();
    h.aws.calls.length = 0;
    h.aep.resetRecording();
    const err = await rejectionOf(() => refreshHandler({ ...h.refreshEvent(created.PhysicalResourceId, key), [CommonProps.IMS_URL]: foreign.url }));
    expect(err.message).toContain(`IMS URL '${foreign.url}' is not allowed`);
    expect(foreign.requests).toEqual([]);
    expect(secretReads()).toEqual([]);
    expect(h.aep.requests).toEqual([]);
  });

  test('a function without the allowed list refuses every endpoint', async () => {
    delete process.env[HandlerEnvironment.ALLOWED_ENDPOINTS];
    try {
      const err = await rejectionOf(() => handler(cfnEvent('Create', h.destinationAccessKeyProps(h.seedKey()))));
      expect(err.message).toContain(`${HandlerEnvironment.ALLOWED_ENDPOINTS} is not set`);
    } finally {
      process.env[HandlerEnvironment.ALLOWED_ENDPOINTS] = JSON.stringify([[h.aep.flowServiceUrl, h.aep.imsUrl]]);
    }
    expect(secretReads()).toEqual([]);
    expect(h.aep.requests).toEqual([]);
  });
});

describe('the allowed endpoints', () => {
  test('work as before: the same Create with the stack\'s own endpoints registers the connection', async () => {
    const res = await handler(cfnEvent('Create', h.destinationAccessKeyProps(h.seedKey())));
    expect(h.aep.getConnection(res.PhysicalResourceId)).toBeDefined();
    expect(secretReads().map((c) => c.action)).toContain('GetSecretValue');
    expect(foreign.requests).toEqual([]);
  });

  test('the control: a stack that allows the foreign IMS does send it the credential (so the refusals above are the rule, not a broken server)', async () => {
    process.env[HandlerEnvironment.ALLOWED_ENDPOINTS] = JSON.stringify([[h.aep.flowServiceUrl, foreign.url]]);
    try {
      // The foreign token means nothing to AEP: how the Create ends does not matter here.
      await handler(cfnEvent('Create', h.destinationAccessKeyProps(h.seedKey(), { [CommonProps.IMS_URL]: foreign.url }))).catch(() => undefined);
    } finally {
      process.env[HandlerEnvironment.ALLOWED_ENDPOINTS] = JSON.stringify([[h.aep.flowServiceUrl, h.aep.imsUrl]]);
    }
    expect(foreign.requests.length).toBeGreaterThan(0);
    expect(foreign.requests[0].url).toBe('/ims/token/v3');
  });
});

describe('an event naming secrets or connections the stack did not give it', () => {
  test('a refresh event naming another connection is refused before any secret is read; that connection is untouched', async () => {
    const mine = h.seedKey('aep/mine');
    const victimKey = h.seedKey('aep/victim');
    const own = await handler(cfnEvent('Create', h.sourceSessionTokenProps(mine, 3600, { [ConnectionProps.NAME]: 'mine' })));
    const victim = await handler(cfnEvent('Create', h.sourceSessionTokenProps(victimKey, 3600, { [ConnectionProps.NAME]: 'victim' }), { logicalId: 'Victim' }));
    const pinned = h.refreshEvent(own.PhysicalResourceId, mine);
    const before = JSON.stringify(h.aep.getConnection(victim.PhysicalResourceId));
    h.aws.calls.length = 0;
    h.aep.resetRecording();
    const err = await rejectionOf(() => refreshHandler({ ...pinned, [RefreshEventKeys.CONNECTION_ID]: victim.PhysicalResourceId }));
    expect(err.message).toContain(`'${RefreshEventKeys.CONNECTION_ID}' differ from the connection this function was synthesized for`);
    expect(err.message).toContain(HandlerEnvironment.REFRESH_TARGET);
    expect(secretReads()).toEqual([]);
    expect(h.aep.requests).toEqual([]);
    expect(JSON.stringify(h.aep.getConnection(victim.PhysicalResourceId))).toBe(before);
    // Its own connection still refreshes.
    await expect(refreshHandler(pinned)).resolves.toMatchObject({ ConnectionId: own.PhysicalResourceId });
  });

  test('a refresh event naming another key secret or sandbox is refused too', async () => {
    const key = h.seedKey();
    const created = await handler(cfnEvent('Create', h.sourceSessionTokenProps(key, 3600)));
    const pinned = h.refreshEvent(created.PhysicalResourceId, key);
    h.aws.calls.length = 0;
    for (const [prop, value] of [[RefreshEventKeys.AUTH_SECRET_ARN, h.credentialsArn], [CommonProps.SANDBOX_NAME, 'other']]) {
      const err = await rejectionOf(() => refreshHandler({ ...pinned, [prop]: value }));
      expect(err.message).toContain(`'${prop}' differ`);
    }
    expect(secretReads()).toEqual([]);
  });

  test('secret fields mapped to a param AEP stores in clear are refused: the credential never lands in folderPath', async () => {
    const props = h.destinationAccessKeyProps(h.seedKey(), {
      [ConnectionProps.AUTH_SECRET_ARN]: h.credentialsArn,
      [ConnectionProps.AUTH_SECRET_FIELDS]: { folderPath: 'clientSecret' },
    });
    h.aws.calls.length = 0;
    const err = await rejectionOf(() => handler(cfnEvent('Create', props)));
    expect(err.message).toContain("maps secret fields to 'folderPath'");
    expect(h.aep.connections()).toEqual([]);
    h.expectNoSecretsIn(JSON.stringify(h.aep.requests));
  });

  test("a connection's auth secret may not be the AEP API credential", async () => {
    const props = h.destinationAccessKeyProps(h.seedKey(), {
      [ConnectionProps.AUTH_SECRET_ARN]: h.credentialsArn,
      [ConnectionProps.AUTH_SECRET_FIELDS]: { s3SecretKey: 'clientSecret', s3AccessKey: 'clientId' },
    });
    const err = await rejectionOf(() => handler(cfnEvent('Create', props)));
    expect(err.message).toContain('names the AEP API credential secret');
    expect(h.aep.connections()).toEqual([]);
  });
});
