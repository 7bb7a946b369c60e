/**
 * Proves the local stand-ins enforce what they claim, over real HTTP with real clients
 * (axios for AEP, AWS SDK v3 for Secrets Manager / STS).
 */
import {
  CreateSecretCommand, DescribeSecretCommand, GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient,
  TagResourceCommand, UntagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, GetSessionTokenCommand, STSClient } from '@aws-sdk/client-sts';
import axios, { AxiosRequestConfig, AxiosResponse } from 'axios';
import {
  AepStandIn, AwsStandIn, DEFAULT_AEP_CREDENTIALS, fakeAccessKeyId, fakeSecretAccessKey, fakeSessionToken, MASKED,
} from '../offline-world/stand-in';
import { contractFailures } from '../offline-world/stand-in/contract-check';
import { AepIds } from '../src/private/contract';

const DEST = AepIds.S3_DESTINATION_CONNECTION_SPEC;
const SOURCE = AepIds.S3_SOURCE_CONNECTION_SPEC;
const SCOPE = 'openid,AdobeID,read_organizations,additional_info.projectedProductContext,session';

const DEST_KEY = { s3AccessKey: fakeAccessKeyId('AKIA', 'dest'), s3SecretKey: fakeSecretAccessKey('dest') };
const SESSION = { s3AccessKey: fakeAccessKeyId('ASIA', 'src'), s3SecretKey: fakeSecretAccessKey('src'), s3SessionToken: fakeSessionToken('src') };
const ROLE_ARN = 'arn:aws:iam::111122223333:role/aep-export-7Qk2x9';

function destConnection(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'acme-aep-s3-dest',
    description: 'test',
    auth: { specName: 'Access Key', params: { ...DEST_KEY } },
    connectionSpec: { id: DEST, version: '1.0' },
    ...overrides,
  };
}

function sourceConnection(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'acme-aep-s3-src',
    auth: { specName: 'Access Key', params: { ...SESSION, bucketName: 'acme-aep-inbound', folderPath: 'exports/crm' } },
    connectionSpec: { id: SOURCE, version: '1.0' },
    ...overrides,
  };
}

function audienceTarget(baseConnectionId: string, params: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'acme-aep-s3-audiences',
    baseConnectionId,
    params: {
      mode: 'Server-to-server',
      bucketName: 'acme-aep-exports',
      path: 'aep/audiences/%SEGMENT_NAME%',
      fileType: 'CSV',
      compression: 'GZIP',
      includeFileManifest: true,
      csvOptions: { delimiter: ',', quote: '"', escape: '\\', nullValue: 'null', emptyValue: '' },
      ...params,
    },
    connectionSpec: { id: DEST, version: '1.0' },
  };
}

describe('AepStandIn', () => {
  let aep: AepStandIn;
  const logLines: string[] = [];
  let token: string;

  beforeAll(async () => {
    aep = await AepStandIn.start({ log: (line) => logLines.push(line) });
  });
  afterAll(async () => {
    await aep.close();
  });
  beforeEach(async () => {
    aep.reset();
    logLines.length = 0;
    token = (await imsToken()).data.access_token;
  });

  function imsToken(fields: Record<string, string> = {}): Promise<AxiosResponse> {
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: aep.credentials.clientId,
      client_secret: aep.credentials.clientSecret,
      scope: SCOPE,
      ...fields,
    });
    for (const [key, value] of Object.entries(fields)) {
      if (value === '') {
        form.delete(key);
      }
    }
    return axios.post(`${aep.imsUrl}/ims/token/v3`, form.toString(), {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      validateStatus: () => true,
    });
  }

  /** A Flow Service call with the standard headers; `headers` entries set to undefined are omitted. */
  function call(
    method: string, path: string, body?: unknown, headers: Record<string, string | undefined> = {}, config: AxiosRequestConfig = {},
  ): Promise<AxiosResponse> {
    const all: Record<string, string | undefined> = {
      ...aep.flowServiceHeaders(token),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    };
    return axios.request({
      method,
      url: `${aep.flowServiceUrl}${path}`,
      data: body === undefined ? undefined : JSON.stringify(body),
      headers: Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined)) as Record<string, string>,
      validateStatus: () => true,
      transformResponse: (data) => data, // keep raw text: the malformed-body fault must not be "fixed" by axios
      ...config,
    }).then((res) => ({ ...res, data: parse(res.data) }));
  }

  function parse(text: unknown): unknown {
    if (typeof text !== 'string' || text === '') {
      return text;
    }
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }

  async function create(path: string, body: Record<string, unknown>, sandbox = 'prod'): Promise<{ id: string; etag: string }> {
    const res = await call('POST', path, body, { 'x-sandbox-name': sandbox });
    expect(res.status).toBe(201);
    return res.data;
  }

  describe('IMS', () => {
    test('issues an opaque bearer token with expires_in in seconds', async () => {
      const res = await imsToken();
      expect(res.status).toBe(200);
      expect(res.data).toEqual({ access_token: expect.any(String), token_type: 'bearer', expires_in: 86399 });
      expect(res.data.access_token.length).toBeGreaterThan(30);
    });

    test.each([
      ['wrong secret', { client_secret: 'nope' }, 401, 'invalid_client'],
      ['wrong client id', { client_id: 'nope' }, 401, 'invalid_client'],
      ['missing scope', { scope: '' }, 400, 'invalid_request'],
      ['missing client_secret', { client_secret: '' }, 400, 'invalid_request'],
      ['wrong grant type', { grant_type: 'password' }, 400, 'unsupported_grant_type'],
    ])('rejects %s', async (_name, fields, status, error) => {
      const res = await imsToken(fields);
      expect(res.status).toBe(status);
      expect(res.data.error).toBe(error);
    });

    test('expireAllTokens invalidates issued tokens', async () => {
      expect((await call('GET', '/connections')).status).toBe(200);
      aep.expireAllTokens();
      const res = await call('GET', '/connections');
      expect(res.status).toBe(401);
      expect(res.data).toEqual({ error_code: '401013', message: 'Oauth token is not valid' });
    });

    test('tokens expire after tokenTtlSeconds', async () => {
      const shortLived = await AepStandIn.start({ tokenTtlSeconds: 0.2 });
      try {
        const t = shortLived.issueToken();
        const get = () => axios.get(`${shortLived.flowServiceUrl}/connections`, { headers: shortLived.flowServiceHeaders(t), validateStatus: () => true });
        expect((await get()).status).toBe(200);
        await new Promise((r) => setTimeout(r, 300));
        expect((await get()).status).toBe(401);
      } finally {
        await shortLived.close();
      }
    });
  });

  describe('gateway headers', () => {
    test.each([
      ['no Authorization', { authorization: undefined }, 401, { error_code: '401013' }],
      ['unknown token', { authorization: 'Bearer not-a-token' }, 401, { error_code: '401013' }],
      ['no x-api-key', { 'x-api-key': undefined }, 403, {}],
      ['wrong x-api-key', { 'x-api-key': 'other-client' }, 403, {}],
      ['no x-gw-ims-org-id', { 'x-gw-ims-org-id': undefined }, 403, {}],
      ['wrong x-gw-ims-org-id', { 'x-gw-ims-org-id': 'OTHER@AdobeOrg' }, 403, {}],
      ['no x-sandbox-name', { 'x-sandbox-name': undefined }, 400, { errorCode: '2105-400', errorMessage: 'The header x-sandbox-name is missing' }],
    ])('%s', async (_name, headers, status, body) => {
      const res = await call('GET', '/connections', undefined, headers);
      expect(res.status).toBe(status);
      expect(res.data).toMatchObject(body);
    });

    test('a body without Content-Type: application/json is 415', async () => {
      const res = await call('POST', '/connections', destConnection(), { 'content-type': 'text/plain' });
      expect(res.status).toBe(415);
      expect(aep.connections()).toHaveLength(0);
    });
  });

  describe('connections', () => {
    test('create returns 201 {id, etag}; GET wraps in items and masks secrets', async () => {
      const created = await create('/connections', destConnection());
      expect(created).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), etag: expect.stringMatching(/^"[0-9a-f-]{36}"$/) });

      const res = await call('GET', `/connections/${created.id}`);
      expect(res.status).toBe(200);
      expect(res.data.items).toHaveLength(1);
      const item = res.data.items[0];
      expect(item).toMatchObject({
        id: created.id,
        etag: created.etag,
        version: created.etag,
        name: 'acme-aep-s3-dest',
        state: 'enabled',
        sandboxName: 'prod',
        imsOrgId: DEFAULT_AEP_CREDENTIALS.orgId,
        connectionSpec: { id: DEST, version: '1.0' },
        auth: { specName: 'Access Key', params: { s3AccessKey: DEST_KEY.s3AccessKey, s3SecretKey: MASKED, authorizedDate: expect.any(String) } },
      });
      expect(JSON.stringify(res.data)).not.toContain(DEST_KEY.s3SecretKey);
      // The test accessor sees the real value.
      expect(aep.getConnection(created.id)?.auth.params.s3SecretKey).toBe(DEST_KEY.s3SecretKey);
      expect(aep.validationFailures).toEqual([]);
    });

    test('resources are only visible from their own sandbox; unknown ids are 404', async () => {
      const { id } = await create('/connections', destConnection(), 'dev');
      expect((await call('GET', `/connections/${id}`, undefined, { 'x-sandbox-name': 'dev' })).status).toBe(200);
      expect((await call('GET', `/connections/${id}`)).status).toBe(404);
      expect((await call('DELETE', `/connections/${id}`)).status).toBe(404);
      const missing = await call('GET', '/connections/00000000-0000-0000-0000-000000000000');
      expect(missing.status).toBe(404);
      expect(missing.data.errorMessage).toMatch(/not found/);
      expect((await call('GET', '/targetConnections/nope')).status).toBe(404);
    });

    test.each([
      ['source Access Key with STS session credentials', sourceConnection()],
      ['source IAMRole Based', sourceConnection({ auth: { specName: 'IAMRole Based', params: { bucketName: 'acme-aep-inbound' } } })],
      ['destination Assumed Role', destConnection({ auth: { specName: 'Assumed Role', params: { s3Role: ROLE_ARN } } })],
      ['destination with PGP encryption', destConnection({ encryption: { specName: 'File Encryption', params: { encryptionAlgo: 'PGP/GPG', publicKey: Buffer.from('-----BEGIN PGP PUBLIC KEY BLOCK-----').toString('base64') } } })],
    ])('accepts %s', async (_name, body) => {
      await create('/connections', body);
      expect(aep.validationFailures).toEqual([]);
    });

    const badKey = 'akia-not-a-key';
    test.each([
      ['bad s3AccessKey pattern', destConnection({ auth: { specName: 'Access Key', params: { ...DEST_KEY, s3AccessKey: badKey } } }), 400, /s3AccessKey/],
      ['short s3SecretKey', destConnection({ auth: { specName: 'Access Key', params: { ...DEST_KEY, s3SecretKey: 'tooShort' } } }), 400, /s3SecretKey/],
      ['missing connectionSpec.version', destConnection({ connectionSpec: { id: DEST } }), 422, /version/],
      ['unknown connection spec', destConnection({ connectionSpec: { id: '4890fc95-5a1f-4983-94bb-e060c08e3f81', version: '1.0' } }), 400, /connectionSpec.id/],
      ['unknown auth spec', destConnection({ auth: { specName: 'Basic Authentication', params: {} } }), 400, /Basic Authentication.*Access Key.*Assumed Role/],
      ['missing name', destConnection({ name: undefined }), 400, /name/],
      ['session token on the destination spec', destConnection({ auth: { specName: 'Access Key', params: { ...DEST_KEY, s3SessionToken: 'x' } } }), 400, /s3SessionToken is not a parameter/],
      ['Assumed Role without a role ARN', destConnection({ auth: { specName: 'Assumed Role', params: { s3Role: 'aep-export-role' } } }), 400, /s3Role must be an IAM role ARN/],
      ['encryptionSpecs shape where the served spec pairs PGP/GPG with encryption', destConnection({ encryptionSpecs: { specName: 'Encryption spec', params: { encryptionAlgo: 'PGPGPG', publicKey: 'QUJD' } } }), 400, /encryptionSpecs is not accepted by this connection spec revision; send encryption/],
      ['non-base64 public key', destConnection({ encryption: { specName: 'File Encryption', params: { encryptionAlgo: 'PGP/GPG', publicKey: '-----BEGIN PGP' } } }), 400, /publicKey must be a base64/],
      ['IAMRole Based without bucketName', sourceConnection({ auth: { specName: 'IAMRole Based', params: {} } }), 400, /bucketName is required/],
      ['source key with a bad bucket name', sourceConnection({ auth: { specName: 'Access Key', params: { ...SESSION, bucketName: 'Bad_Bucket' } } }), 400, /bucketName/],
    ])('rejects %s', async (_name, body, status, message) => {
      const res = await call('POST', '/connections', body);
      expect(res.status).toBe(status);
      expect(res.data.errorMessage).toMatch(message);
      expect(aep.validationFailures).toHaveLength(1);
      expect(aep.connections()).toHaveLength(0);
      // Error text names fields and rules, never values.
      for (const secret of [DEST_KEY.s3SecretKey, SESSION.s3SecretKey, SESSION.s3SessionToken, badKey]) {
        expect(res.data.errorMessage).not.toContain(secret);
      }
    });

    test('rejections come from Adobe\'s OpenAPI schema first, with the schema named', async () => {
      expect(aep.schemaValidation).toBe(true);
      const res = await call('POST', '/connections', destConnection({ auth: { specName: 'Access Key', params: { ...DEST_KEY, s3AccessKey: 'lower' } } }));
      expect(res.data.errorMessage).toMatch(/must match pattern.*destinations\.yaml Create_S3_Base_Connection_Request_V2/);
      const src = await call('POST', '/connections', sourceConnection({ description: 5 }));
      expect(src.data.errorMessage).toMatch(/description must be string.*flow-service\.yaml CreateConnectionRequest/);
    });

    test('invalid JSON is a recorded 400', async () => {
      const res = await call('POST', '/connections', undefined, { 'content-type': 'application/json' }, {
        data: '{"name":',
        transformRequest: [(data: unknown) => data], // axios would JSON-encode the broken string
      });
      expect(res.status).toBe(400);
      expect(aep.validationFailures).toEqual([expect.stringMatching(/not valid JSON/)]);
    });
  });

  describe('PATCH', () => {
    let id: string;
    let etag: string;
    beforeEach(async () => {
      ({ id, etag } = await create('/connections', sourceConnection()));
    });
    const rotate = (secret: string) => [
      { op: 'replace', path: '/auth/params/s3AccessKey', value: fakeAccessKeyId('ASIA', secret) },
      { op: 'replace', path: '/auth/params/s3SecretKey', value: fakeSecretAccessKey(secret) },
      { op: 'replace', path: '/auth/params/s3SessionToken', value: fakeSessionToken(secret) },
    ];

    test('without If-Match is 400 1403-400', async () => {
      const res = await call('PATCH', `/connections/${id}`, rotate('a'));
      expect(res.status).toBe(400);
      expect(res.data.errorCode).toBe('1403-400');
    });

    test.each([
      ['a stale etag', '"00000000-0000-0000-0000-000000000000"'],
      ['the etag without its quotes', undefined],
    ])('with %s is 412 1404-412', async (_name, value) => {
      const res = await call('PATCH', `/connections/${id}`, rotate('a'), { 'if-match': value ?? etag.replace(/"/g, '') });
      expect(res.status).toBe(412);
      expect(res.data).toMatchObject({ errorCode: '1404-412', errorMessage: expect.any(String) });
    });

    test('a good patch is applied, returns 200 with a new etag, and the old etag goes stale', async () => {
      const res = await call('PATCH', `/connections/${id}`, rotate('b'), { 'if-match': etag });
      expect(res.status).toBe(200);
      expect(res.data).toEqual({ id, etag: expect.stringMatching(/^".+"$/) });
      expect(res.data.etag).not.toBe(etag);
      const stored = aep.getConnection(id)!;
      expect(stored.auth.params).toMatchObject({
        s3AccessKey: fakeAccessKeyId('ASIA', 'b'), s3SecretKey: fakeSecretAccessKey('b'), s3SessionToken: fakeSessionToken('b'), bucketName: 'acme-aep-inbound',
      });
      expect(stored.etag).toBe(res.data.etag);
      expect((await call('PATCH', `/connections/${id}`, rotate('c'), { 'if-match': etag })).status).toBe(412);
      const get = await call('GET', `/connections/${id}`);
      expect(get.data.items[0].auth.params.s3SessionToken).toBe(MASKED);
      expect(aep.validationFailures).toEqual([]);
    });

    test('add / remove ops and whole-object replace work', async () => {
      const res = await call('PATCH', `/connections/${id}`, [
        { op: 'add', path: '/description', value: 'new' },
        { op: 'remove', path: '/auth/params/folderPath' },
      ], { 'if-match': etag });
      expect(res.status).toBe(200);
      expect(aep.getConnection(id)).toMatchObject({ description: 'new' });
      expect(aep.getConnection(id)!.auth.params.folderPath).toBeUndefined();
      const replace = await call('PATCH', `/connections/${id}`, [{ op: 'replace', path: '/auth/params', value: { ...SESSION } }], { 'if-match': res.data.etag });
      expect(replace.status).toBe(200);
    });

    test.each([
      ['a single object (flow-service.yaml shape)', { op: 'replace', path: '/name', value: 'x' }, '400', /must be array/],
      ['upper-case ops', [{ op: 'REPLACE', path: '/name', value: 'x' }], '400', /op must be equal to one of the allowed values/],
      ['replace without value', [{ op: 'replace', path: '/name' }], '400', /value/],
      ['a change of connectionSpec', [{ op: 'replace', path: '/connectionSpec/id', value: DEST }], '1414-400', /cannot be changed/],
      ['a change of id', [{ op: 'replace', path: '/id', value: 'x' }], '1414-400', /cannot be changed/],
      ['a replace of a missing path', [{ op: 'replace', path: '/auth/params/serviceUrlX/y', value: 'x' }], '1455-400', /does not exist/],
      ['a result that breaks the auth spec', [{ op: 'replace', path: '/auth/params/s3SecretKey', value: 'short' }], '400', /s3SecretKey/],
      ['a result with an unknown param', [{ op: 'add', path: '/auth/params/roleArn', value: ROLE_ARN }], '400', /roleArn is not a parameter/],
    ])('rejects %s and leaves the resource untouched', async (_name, body, code, message) => {
      const before = aep.getConnection(id);
      const res = await call('PATCH', `/connections/${id}`, body, { 'if-match': etag });
      expect(res.status).toBe(400);
      expect(res.data.errorCode).toBe(code);
      expect(res.data.errorMessage).toMatch(message);
      expect(aep.getConnection(id)).toEqual(before);
      expect(aep.validationFailures).toHaveLength(1);
    });

    test('unknown id is 404', async () => {
      expect((await call('PATCH', '/connections/nope', rotate('a'), { 'if-match': etag })).status).toBe(404);
    });
  });

  describe('target connections and delete', () => {
    test('create, list by baseConnectionId, refuse deleting a base connection in use, then delete in order', async () => {
      const base = await create('/connections', destConnection());
      const target = await create('/targetConnections', audienceTarget(base.id));
      await create('/targetConnections', { ...audienceTarget(base.id, { fileType: undefined, csvOptions: undefined, datasetFileType: 'PARQUET' }), name: 'datasets' });
      const listed = await call('GET', `/targetConnections?property=baseConnectionId==${base.id}`);
      expect(listed.data.items).toHaveLength(2);

      const inUse = await call('DELETE', `/connections/${base.id}`);
      expect(inUse.status).toBe(400);
      expect(inUse.data.errorMessage).toMatch(/being used by flows\/target connections/);

      const patched = await call('PATCH', `/targetConnections/${target.id}`, [{ op: 'replace', path: '/params/compression', value: 'NONE' }], { 'if-match': target.etag });
      expect(patched.status).toBe(200);

      for (const t of aep.targetConnections()) {
        expect((await call('DELETE', `/targetConnections/${t.id}`)).status).toBe(202);
      }
      const deleted = await call('DELETE', `/connections/${base.id}`);
      expect(deleted.status).toBe(202);
      expect(deleted.data).toBe('');
      expect((await call('DELETE', `/connections/${base.id}`)).status).toBe(404);
      expect(aep.validationFailures).toEqual([]);
    });

    test('source connections delete with 204', async () => {
      const { id } = await create('/connections', sourceConnection());
      expect((await call('DELETE', `/connections/${id}`)).status).toBe(204);
    });

    test.each([
      ['fileType and datasetFileType together', { datasetFileType: 'JSON' }, /exactly one|oneOf/],
      ['csvOptions with JSON', { fileType: 'JSON' }, /csvOptions is only allowed/],
      ['an invalid bucket name', { bucketName: '192.168.1.1' }, /bucketName/],
      ['an unknown compression', { compression: 'ZIP' }, /compression/],
      ['a legacy mode', { mode: 'S3' }, /mode/],
      ['a macro in the middle of the path', { path: 'a/%SEGMENT_NAME%/b' }, /path/],
    ])('rejects a target with %s', async (_name, params, message) => {
      const base = await create('/connections', destConnection());
      const res = await call('POST', '/targetConnections', audienceTarget(base.id, params));
      expect(res.status).toBe(400);
      expect(res.data.errorMessage).toMatch(message);
    });

    test('rejects a target whose base connection does not exist', async () => {
      const res = await call('POST', '/targetConnections', audienceTarget('00000000-0000-0000-0000-000000000000'));
      expect(res.status).toBe(400);
      expect(aep.validationFailures).toHaveLength(1);
    });
  });

  describe('list filters', () => {
    beforeEach(async () => {
      await create('/connections', destConnection({ name: 'alpha' }));
      await create('/connections', destConnection({ name: 'beta, with comma' }));
      await create('/connections', sourceConnection({ name: 'alpha' }));
      await create('/connections', destConnection({ name: 'alpha' }), 'dev');
    });
    const names = (res: AxiosResponse) => res.data.items.map((i: { name: string }) => i.name);

    test('equality, quoting, OR and AND', async () => {
      expect(names(await call('GET', '/connections?property=name==alpha'))).toEqual(['alpha', 'alpha']);
      expect(names(await call('GET', `/connections?property=${encodeURIComponent('name=="beta, with comma"')}`))).toEqual(['beta, with comma']);
      expect(names(await call('GET', `/connections?property=${encodeURIComponent('name=="alpha","beta, with comma"')}`))).toHaveLength(3);
      const and = await call('GET', `/connections?property=name%3D%3D%22alpha%22&property=connectionSpec.id%3D%3D${SOURCE}`);
      expect(and.data.items).toHaveLength(1);
      expect(and.data.items[0].connectionSpec.id).toBe(SOURCE);
      expect(names(await call('GET', '/connections?property=state==enabled'))).toHaveLength(3);
    });

    test('newest first, limit with a continuation link, count', async () => {
      const page = await call('GET', '/connections?limit=2');
      expect(names(page)).toEqual(['alpha', 'beta, with comma']);
      const next = await axios.get(page.data._links.next.href, { headers: aep.flowServiceHeaders(token) });
      expect(next.data.items).toHaveLength(1);
      expect((await call('GET', '/connections?count=true')).data).toEqual({ count: 3 });
      expect((await call('GET', '/connections?count=true&limit=1')).data.errorCode).toBe('1401-400');
    });

    test('unsupported filter fields are refused', async () => {
      const res = await call('GET', '/connections?property=auth.specName==x');
      expect(res.status).toBe(400);
    });
  });

  test('connection spec configs return the IAM role, overridable for malformed-value tests', async () => {
    const path = `/connectionSpecs/${SOURCE}/configs?authType=IamBasedAuthentication`;
    expect((await call('GET', path)).data).toEqual({ configParams: { IAMRole: 'arn:aws:iam::123456789012:role/aep-ingest-va6' } });
    aep.setIamRoleArn('{IAM_ROLE}');
    expect((await call('GET', path)).data.configParams.IAMRole).toBe('{IAM_ROLE}');
    expect((await call('GET', `/connectionSpecs/${SOURCE}/configs`)).status).toBe(400);
    expect((await call('GET', '/connectionSpecs/unknown/configs?authType=IamBasedAuthentication')).status).toBe(404);
  });

  describe('faults', () => {
    test('status: given status, Retry-After and error body; request not applied; times honoured', async () => {
      aep.inject({ match: { method: 'POST', path: '/connections' }, kind: 'status', status: 429, retryAfterSeconds: 2, times: 2 });
      for (let i = 0; i < 2; i++) {
        const res = await call('POST', '/connections', destConnection());
        expect(res.status).toBe(429);
        expect(res.headers['retry-after']).toBe('2');
        expect(res.data).toMatchObject({ errorCode: '429' });
      }
      expect(aep.connections()).toHaveLength(0);
      expect((await call('POST', '/connections', destConnection())).status).toBe(201);
      expect(aep.requests.map((r) => [r.status, r.fault])).toEqual([[200, undefined], [429, 'status'], [429, 'status'], [201, undefined]]);
    });

    test('faults only hit matching requests and can be cleared', async () => {
      aep.inject({ match: { path: /\/connections\/[^/]+$/ }, kind: 'status', status: 503 });
      expect((await call('GET', '/connections')).status).toBe(200);
      expect(aep.pendingFaults).toBe(1);
      aep.clearFaults();
      expect((await call('GET', '/connections/x')).status).toBe(404);
    });

    test('delay: the client times out, but the slow server still applies the create', async () => {
      aep.inject({ match: { method: 'POST' }, kind: 'delay', delayMs: 300 });
      await expect(call('POST', '/connections', destConnection(), {}, { timeout: 100 })).rejects.toThrow(/timeout/);
      expect(aep.connections()).toHaveLength(0);
      await new Promise((r) => setTimeout(r, 400));
      expect(aep.connections()).toHaveLength(1);
    });

    test('reset: socket destroyed without a response, request not applied', async () => {
      aep.inject({ kind: 'reset', match: { method: 'POST' } });
      await expect(call('POST', '/connections', destConnection())).rejects.toThrow(/socket hang up|ECONNRESET/);
      expect(aep.connections()).toHaveLength(0);
      expect(aep.requests.at(-1)).toMatchObject({ status: 0, fault: 'reset' });
    });

    test('malformed: 200 with truncated JSON, request not applied', async () => {
      aep.inject({ kind: 'malformed', match: { method: 'POST' } });
      const res = await call('POST', '/connections', destConnection());
      expect(res.status).toBe(200);
      expect(res.data).toBe('{"items": [');
      expect(aep.connections()).toHaveLength(0);
    });

    test('expiredToken: 401 and every token is invalid afterwards', async () => {
      aep.inject({ kind: 'expiredToken', match: { method: 'POST' } });
      const res = await call('POST', '/connections', destConnection());
      expect(res.status).toBe(401);
      expect(res.data).toEqual({ error_code: '401013', message: 'Oauth token is not valid' });
      expect((await call('GET', '/connections')).status).toBe(401);
      token = (await imsToken()).data.access_token;
      expect((await call('GET', '/connections')).status).toBe(200);
    });

    test('IMS can be faulted too', async () => {
      aep.inject({ match: { path: '/ims/token/v3' }, kind: 'status', status: 502 });
      expect((await imsToken()).status).toBe(502);
      expect((await imsToken()).status).toBe(200);
    });
  });

  test('recordings and logs never contain secrets', async () => {
    aep.resetRecording();
    await imsToken();
    const { id, etag } = await create('/connections', sourceConnection());
    await call('PATCH', `/connections/${id}`, [
      { op: 'replace', path: '/auth/params/s3SessionToken', value: fakeSessionToken('rotated') },
      { op: 'replace', path: '/auth/params', value: { ...SESSION, s3SecretKey: fakeSecretAccessKey('rotated') } },
    ], { 'if-match': etag });
    const role = await create('/connections', destConnection({ auth: { specName: 'Assumed Role', params: { s3Role: ROLE_ARN } } }));
    await call('POST', '/connections', destConnection({ auth: { specName: 'Access Key', params: { ...DEST_KEY, s3AccessKey: 'bad' } } }));

    const recorded = JSON.stringify(aep.requests) + JSON.stringify(aep.validationFailures) + logLines.join('\n');
    for (const secret of [aep.credentials.clientSecret, token, SESSION.s3SecretKey, SESSION.s3SessionToken, fakeSessionToken('rotated'),
      fakeSecretAccessKey('rotated'), DEST_KEY.s3SecretKey, ROLE_ARN]) {
      expect(recorded).not.toContain(secret);
    }
    expect(aep.requests[0].body).toMatchObject({ client_id: aep.credentials.clientId, client_secret: '<redacted>' });
    expect(aep.requests[1].headers.authorization).toBe('Bearer <redacted>');
    expect(aep.requests[1].body).toMatchObject({ auth: { params: { s3AccessKey: SESSION.s3AccessKey, s3SecretKey: '<redacted>' } } });
    expect(aep.getConnection(role.id)!.auth.params.s3Role).toBe(ROLE_ARN);
    expect(logLines.some((l) => l.includes('POST /data/foundation/flowservice/connections -> 201'))).toBe(true);
  });

  test('without the OpenAPI specs: refuses to start (naming npm run fetch-specs) unless told to run rules-only, then warns once', async () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      // CI or not, a missing spec folder is an error: a stand-in that validates nothing must not pass a run.
      await expect(AepStandIn.start({ specDir: '/nonexistent/contracts' })).rejects.toThrow(/not found.*npm run fetch-specs/);
      const first = await AepStandIn.start({ specDir: '/nonexistent/contracts', allowMissingSpecs: true });
      const second = await AepStandIn.start({ specDir: '/nonexistent/contracts', allowMissingSpecs: true });
      expect(first.schemaValidation).toBe(false);
      expect(warn).toHaveBeenCalledTimes(1);
      const t = first.issueToken();
      const res = await axios.post(`${first.flowServiceUrl}/connections`, JSON.stringify(destConnection({ auth: { specName: 'Access Key', params: { s3AccessKey: 'x' } } })), {
        headers: { ...first.flowServiceHeaders(t), 'content-type': 'application/json' },
        validateStatus: () => true,
      });
      expect(res.status).toBe(400);
      await Promise.all([first.close(), second.close()]);
    } finally {
      warn.mockRestore();
    }
  });

  describe('contract check (Adobe\'s specs judge every exchange)', () => {
    const STRICT = process.env.AEP_CONTRACT_STRICT;
    afterEach(() => {
      if (STRICT === undefined) delete process.env.AEP_CONTRACT_STRICT;
      else process.env.AEP_CONTRACT_STRICT = STRICT;
    });

    test('a request the spec forbids, sent by hand, is recorded by operation and rule and fails enforcement', async () => {
      // destinations.yaml: `limit` is an integer. The stand-in rejects it too, but the check is
      // independent of the stand-in's own validation: it judges what was sent.
      expect((await call('GET', `/connections?property=connectionSpec.id==${DEST}&limit=many`)).status).toBe(400);
      const found = aep.contractViolations().filter((v) => v.direction === 'request');
      expect(found).toEqual([expect.objectContaining({ spec: 'destinations.yaml', operation: 'getConnections', rule: '/query/limit type "integer"', count: 1 })]);
      // What the handler harness, ScenarioWorld.violations() and the demo fail on.
      expect(contractFailures(aep)).toEqual([expect.stringContaining('getConnections request: /query/limit type "integer"')]);
      process.env.AEP_CONTRACT_STRICT = '0';
      expect(contractFailures(aep)).toEqual([]);
    });

    test('a spec-conformant exchange records nothing; a documented gap is reported but does not fail', async () => {
      const created = await call('POST', '/connections', destConnection());
      expect(created.status).toBe(201);
      expect(aep.contractViolations()).toEqual([]);
      await call('GET', `/connections/${created.data.id}`);
      // Flow Service answers a GET by id with {items: [...]}: destinations.yaml says one item.
      expect(aep.contractReport().map((v) => v.gap)).toContain('dst-get-list-wrapper');
      expect(contractFailures(aep)).toEqual([]);
    });
  });
});

describe('AwsStandIn with the real AWS SDK', () => {
  let aws: AwsStandIn;
  beforeAll(async () => {
    aws = await AwsStandIn.start();
  });
  afterAll(async () => {
    await aws.close();
  });
  beforeEach(() => aws.reset());

  const sts = (credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) =>
    new STSClient({ endpoint: aws.url, region: 'us-east-1', credentials, maxAttempts: 1 });
  const secretsManager = (credentials = aws.lambdaCredentials) =>
    new SecretsManagerClient({ endpoint: aws.url, region: 'us-east-1', credentials, maxAttempts: 1 });

  test('GetSecretValue by ARN and by name; unknown secret is ResourceNotFoundException', async () => {
    const value = JSON.stringify({ clientId: 'id', clientSecret: 'sm-secret-value-123' });
    const arn = aws.putSecret('aep/credentials', value);
    expect(arn).toMatch(/^arn:aws:secretsmanager:us-east-1:123456789012:secret:aep\/credentials-[A-Za-z0-9]{6}$/);
    const client = secretsManager();
    expect((await client.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString).toBe(value);
    expect((await client.send(new GetSecretValueCommand({ SecretId: 'aep/credentials' }))).ARN).toBe(arn);
    await expect(client.send(new GetSecretValueCommand({ SecretId: 'missing' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    expect(aws.calls.map((c) => [c.service, c.action, c.accessKeyId, c.status])).toEqual([
      ['secretsmanager', 'GetSecretValue', aws.lambdaCredentials.accessKeyId, 200],
      ['secretsmanager', 'GetSecretValue', aws.lambdaCredentials.accessKeyId, 200],
      ['secretsmanager', 'GetSecretValue', aws.lambdaCredentials.accessKeyId, 400],
    ]);
    expect(JSON.stringify(aws.calls)).not.toContain('sm-secret-value-123');
  });

  test('secret tags: CreateSecret Tags, TagResource, UntagResource, DescribeSecret; IAM sees them as aws:ResourceTag', async () => {
    const client = secretsManager();
    const { ARN: arn } = await client.send(new CreateSecretCommand({ Name: 'tagged', SecretString: 'v', Tags: [{ Key: 'team', Value: 'a' }] }));
    await client.send(new TagResourceCommand({ SecretId: arn, Tags: [{ Key: 'cdk-aep-s3:owner', Value: 'stack-1' }] }));
    expect((await client.send(new DescribeSecretCommand({ SecretId: arn }))).Tags).toEqual([
      { Key: 'team', Value: 'a' }, { Key: 'cdk-aep-s3:owner', Value: 'stack-1' },
    ]);
    await client.send(new UntagResourceCommand({ SecretId: arn, TagKeys: ['team'] }));
    expect(aws.secretTags(arn!)).toEqual({ 'cdk-aep-s3:owner': 'stack-1' });
    const seen: Array<Record<string, string>> = [];
    aws.setAuthorizer((r) => {
      seen.push(r.context);
      return r.context['aws:ResourceTag/cdk-aep-s3:owner'] === 'stack-1' ? 'allowed' : 'denied';
    });
    try {
      expect((await client.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString).toBe('v');
      aws.tagSecret(arn!, { 'cdk-aep-s3:owner': 'stack-2' });
      await expect(client.send(new GetSecretValueCommand({ SecretId: arn }))).rejects.toMatchObject({ name: 'AccessDeniedException' });
    } finally {
      aws.setAuthorizer(undefined);
    }
    expect(seen).toEqual([
      { 'aws:SecureTransport': 'true', 'aws:ResourceTag/cdk-aep-s3:owner': 'stack-1' },
      { 'aws:SecureTransport': 'true', 'aws:ResourceTag/cdk-aep-s3:owner': 'stack-2' },
    ]);
  });

  test('a client configured only through env() reaches the stand-in', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, aws.env());
    // Prove the service-specific variables alone are honoured by the SDK.
    delete process.env.AWS_ENDPOINT_URL;
    try {
      const arn = aws.putSecret('env-secret', 'v');
      const client = new SecretsManagerClient({ maxAttempts: 1 });
      expect((await client.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString).toBe('v');
      const identity = await new STSClient({ maxAttempts: 1 }).send(new GetCallerIdentityCommand({}));
      expect(identity.Arn).toBe(aws.lambdaCredentials.arn);
    } finally {
      process.env = saved;
    }
  });

  test('a wrong secret fails Secrets Manager signature verification', async () => {
    aws.putSecret('s', 'v');
    const wrong = { ...aws.lambdaCredentials, secretAccessKey: fakeSecretAccessKey('wrong') };
    await expect(secretsManager(wrong).send(new GetSecretValueCommand({ SecretId: 's' }))).rejects.toMatchObject({ name: 'InvalidSignatureException', $metadata: { httpStatusCode: 400 } });
  });

  test('GetCallerIdentity with the right key; wrong secret and unknown key are refused', async () => {
    const key = aws.createAccessKey('aep-dest-user');
    const identity = await sts(key).send(new GetCallerIdentityCommand({}));
    expect(identity).toMatchObject({ Account: '123456789012', Arn: 'arn:aws:iam::123456789012:user/aep-dest-user' });

    await expect(sts({ ...key, secretAccessKey: fakeSecretAccessKey('wrong') }).send(new GetCallerIdentityCommand({})))
      .rejects.toMatchObject({ name: 'SignatureDoesNotMatch', $metadata: { httpStatusCode: 403 } });
    await expect(sts({ accessKeyId: fakeAccessKeyId(), secretAccessKey: key.secretAccessKey }).send(new GetCallerIdentityCommand({})))
      .rejects.toMatchObject({ name: 'InvalidClientTokenId', $metadata: { httpStatusCode: 403 } });
  });

  test('a new key fails notValidForNextCalls times (IAM propagation), then works', async () => {
    const key = { accessKeyId: fakeAccessKeyId('AKIA', 'new'), secretAccessKey: fakeSecretAccessKey('new') };
    aws.registerAccessKey({ ...key, userName: 'fresh', notValidForNextCalls: 2 });
    const client = sts(key);
    for (let i = 0; i < 2; i++) {
      await expect(client.send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({ name: 'InvalidClientTokenId' });
    }
    expect((await client.send(new GetCallerIdentityCommand({}))).Arn).toBe('arn:aws:iam::123456789012:user/fresh');
  });

  test('GetSessionToken issues usable ASIA credentials; validates duration; refuses session credentials', async () => {
    const key = aws.createAccessKey('aep-src-user');
    const { Credentials } = await sts(key).send(new GetSessionTokenCommand({ DurationSeconds: 900 }));
    expect(Credentials?.AccessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(Credentials?.SecretAccessKey).toMatch(/^[A-Za-z0-9/+]{40}$/);
    expect(Credentials?.SessionToken?.length).toBeGreaterThan(100);
    expect(Credentials!.Expiration!.getTime() - Date.now()).toBeGreaterThan(890_000);
    expect(aws.sessionTokensIssued).toBe(1);

    const temporary = {
      accessKeyId: Credentials!.AccessKeyId!,
      secretAccessKey: Credentials!.SecretAccessKey!,
      sessionToken: Credentials!.SessionToken!,
    };
    expect((await sts(temporary).send(new GetCallerIdentityCommand({}))).Arn).toBe('arn:aws:iam::123456789012:user/aep-src-user');
    await expect(sts({ ...temporary, sessionToken: 'forged' }).send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({ name: 'InvalidClientTokenId' });
    await expect(sts(temporary).send(new GetSessionTokenCommand({}))).rejects.toMatchObject({ name: 'AccessDenied' });
    await expect(sts(aws.lambdaCredentials).send(new GetSessionTokenCommand({}))).rejects.toMatchObject({ name: 'AccessDenied' });
    await expect(sts(key).send(new GetSessionTokenCommand({ DurationSeconds: 60 }))).rejects.toMatchObject({ name: 'ValidationError', $metadata: { httpStatusCode: 400 } });
    await expect(sts(key).send(new GetSessionTokenCommand({ DurationSeconds: 129601 }))).rejects.toMatchObject({ name: 'ValidationError' });
    expect(aws.sessionTokensIssued).toBe(1);

    aws.expireSessionCredentials();
    await expect(sts(temporary).send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({ name: 'ExpiredToken' });
    expect(JSON.stringify(aws.calls)).not.toContain(temporary.secretAccessKey);
    expect(JSON.stringify(aws.calls)).not.toContain(temporary.sessionToken);
  });

  test('fake credentials have the real shapes and are deterministic with a seed', () => {
    expect(fakeAccessKeyId()).toMatch(/^AKIA[A-Z2-7]{16}$/);
    expect(fakeAccessKeyId('ASIA', 'x')).toBe(fakeAccessKeyId('ASIA', 'x'));
    expect(fakeAccessKeyId('ASIA', 'x')).not.toBe(fakeAccessKeyId('ASIA', 'y'));
    expect(fakeSecretAccessKey('x')).toMatch(/^[A-Za-z0-9/+]{40}$/);
    expect(fakeSecretAccessKey('x')).toBe(fakeSecretAccessKey('x'));
    expect(fakeSecretAccessKey()).not.toBe(fakeSecretAccessKey());
  });
});
