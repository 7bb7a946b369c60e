import { cfnEvent, rejectionOf, FAULT_KNOBS, useHarness } from './harness';
import { handler } from '../../src/handler/aep.lambda';
import { AepIds, Attributes, CommonProps, ConnectionProps, RemovalPolicies, ResourceTypes, TargetConnectionProps } from '../../src/private/contract';

const h = useHarness(FAULT_KNOBS);

const PUBLIC_KEY = Buffer.from('-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQENBGTest\n-----END PGP PUBLIC KEY BLOCK-----\n').toString('base64');

describe('Create', () => {
  test('destination Access Key: verifies the AKIA key, then registers it with the marker in the description', async () => {
    const key = h.seedKey();
    const res = await handler(cfnEvent('Create', h.destinationAccessKeyProps(key)));

    const id = res.PhysicalResourceId;
    expect(res.Data).toEqual({ [Attributes.CONNECTION_ID]: id, [Attributes.ETAG]: expect.stringMatching(/^".+"$/) });
    const stored = h.aep.getConnection(id)!;
    expect(stored.name).toBe('acme-aep-s3-dest');
    expect(stored.description).toBe('Managed by CloudFormation [cdk-aep-s3:us-east-1:123456789012:aep-test/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0/Connection1]');
    expect(stored.auth).toEqual({
      specName: 'Access Key',
      params: { s3AccessKey: key.accessKeyId, s3SecretKey: key.secretAccessKey, authorizedDate: expect.any(String) },
    });
    expect(stored.connectionSpec).toEqual({ id: AepIds.S3_DESTINATION_CONNECTION_SPEC, version: '1.0' });
    expect(h.aws.calls.filter((c) => c.action === 'GetCallerIdentity').map((c) => c.accessKeyId)).toEqual([key.accessKeyId]);
    h.expectNoSecretsIn(res);
  });

  test('sends the standard headers: API key, org, lower-case sandbox, JSON content type', async () => {
    const key = h.seedKey();
    await handler(cfnEvent('Create', { ...h.destinationAccessKeyProps(key), ...h.common('dev-1') }));
    const post = h.aep.requests.find((r) => r.method === 'POST' && r.path.endsWith('/connections'))!;
    expect(post.headers).toMatchObject({
      'x-api-key': h.aep.credentials.clientId,
      'x-gw-ims-org-id': h.aep.credentials.orgId,
      'x-sandbox-name': 'dev-1',
      'content-type': 'application/json',
    });
    const ims = h.aep.requests.find((r) => r.path === '/ims/token/v3')!;
    expect(ims.body).toMatchObject({ grant_type: 'client_credentials', client_id: h.aep.credentials.clientId, scope: expect.stringContaining('openid') });
  });

  test('destination Assumed Role with file encryption', async () => {
    const roleArn = 'arn:aws:iam::111122223333:role/aep-export-7Qk2x9';
    const roleSecret = h.aws.putSecret('aep/role', JSON.stringify({ roleArn }));
    h.secretValues.add(roleArn);
    const encryption = { specName: 'File Encryption', params: { encryptionAlgo: 'PGP/GPG', publicKey: PUBLIC_KEY } };
    const res = await handler(cfnEvent('Create', {
      ...h.common(),
      [ConnectionProps.NAME]: 'acme-aep-s3-dest-role',
      [ConnectionProps.CONNECTION_SPEC_ID]: AepIds.S3_DESTINATION_CONNECTION_SPEC,
      [ConnectionProps.AUTH_SPEC_NAME]: 'Assumed Role',
      [ConnectionProps.AUTH_SECRET_ARN]: roleSecret,
      [ConnectionProps.AUTH_SECRET_FIELDS]: { s3Role: 'roleArn' },
      [ConnectionProps.ENCRYPTION]: encryption,
    }));
    const stored = h.aep.getConnection(res.PhysicalResourceId)!;
    expect(stored.auth.specName).toBe('Assumed Role');
    expect(stored.auth.params.s3Role).toBe(roleArn);
    expect(stored.encryption).toEqual(encryption);
    expect(stored.description).toMatch(/^\[cdk-aep-s3:.+\/Connection1\]$/);
  });

  test('source Access Key with session token registers the temporary triple', async () => {
    const key = h.seedKey();
    const res = await handler(cfnEvent('Create', h.sourceSessionTokenProps(key, 43_200, {
      [ConnectionProps.AUTH_PARAMS]: { bucketName: 'acme-aep-inbound', folderPath: 'exports/crm' },
    })));
    const params = h.aep.getConnection(res.PhysicalResourceId)!.auth.params;
    expect(params).toMatchObject({ bucketName: 'acme-aep-inbound', folderPath: 'exports/crm' });
    expect(params.s3AccessKey).toMatch(/^ASIA/);
    expect(params.s3SecretKey).not.toBe(key.secretAccessKey);
    expect(typeof params.s3SessionToken).toBe('string');
    expect(h.aws.sessionTokensIssued).toBe(1);
    // The long-term key was proven before it was exchanged.
    expect(h.aws.calls.map((c) => c.action)).toEqual(expect.arrayContaining(['GetCallerIdentity', 'GetSessionToken']));
    h.expectNoSecretsIn(res);
  });

  test('source IAMRole Based needs no secret', async () => {
    const res = await handler(cfnEvent('Create', {
      ...h.common(),
      [ConnectionProps.NAME]: 'acme-aep-s3-src-aws',
      [ConnectionProps.CONNECTION_SPEC_ID]: AepIds.S3_SOURCE_CONNECTION_SPEC,
      [ConnectionProps.AUTH_SPEC_NAME]: 'IAMRole Based',
      [ConnectionProps.AUTH_PARAMS]: { bucketName: 'acme-aep-inbound' },
    }));
    expect(h.aep.getConnection(res.PhysicalResourceId)!.auth).toEqual({ specName: 'IAMRole Based', params: { bucketName: 'acme-aep-inbound' } });
  });

  test('waits out IAM propagation: the key probe retries while STS rejects a fresh key', async () => {
    const key = h.seedKey('aep/fresh-key', 3);
    const res = await handler(cfnEvent('Create', h.destinationAccessKeyProps(key)));
    expect(h.aep.getConnection(res.PhysicalResourceId)).toBeDefined();
    const probes = h.aws.calls.filter((c) => c.action === 'GetCallerIdentity');
    expect(probes.map((c) => c.errorCode)).toEqual(['InvalidClientTokenId', 'InvalidClientTokenId', 'InvalidClientTokenId', undefined]);
  });

  test('a key that never becomes valid fails clearly, naming the key id but not the secret, and registers nothing', async () => {
    const key = h.seedKey('aep/dead-key', 1_000_000);
    process.env.AWS_KEY_PROBE_DEADLINE_MS = '300';
    const err = await rejectionOf(() => handler(cfnEvent('Create', h.destinationAccessKeyProps(key))))
      .finally(() => { process.env.AWS_KEY_PROBE_DEADLINE_MS = FAULT_KNOBS.AWS_KEY_PROBE_DEADLINE_MS; });
    expect(err.message).toContain(key.accessKeyId);
    expect(err.message).toMatch(/still rejected by STS/);
    expect(h.aep.connections()).toHaveLength(0);
    h.expectNoSecretsIn(err.message, err.stack);
  });

  test('wrong client secret: IMS error surfaces without the secret', async () => {
    h.aws.putSecret('aep/oauth', JSON.stringify({ ...h.aep.credentials, clientSecret: 'WRONG-secret-value-123' }));
    h.secretValues.add('WRONG-secret-value-123');
    const err = await rejectionOf(() => handler(cfnEvent('Create', h.destinationAccessKeyProps(h.seedKey()))));
    expect(err.message).toMatch(/POST \/ims\/token\/v3 failed: HTTP 401 \[invalid_client\]/);
    h.expectNoSecretsIn(err.message, err.stack);
  });

  test('a param the live auth spec does not declare fails before any POST, naming it and what AEP declares', async () => {
    const key = h.seedKey();
    const err = await rejectionOf(() => handler(cfnEvent('Create', h.destinationAccessKeyProps(key, {
      [ConnectionProps.AUTH_PARAMS]: { bucketName: 'not-a-destination-param' },
    }))));
    expect(err.message).toMatch(/param 'bucketName' is not declared by 'Access Key' \(AEP declares: s3AccessKey, s3SecretKey\)/);
    expect(err.message).toMatch(/nothing was created/);
    expect(h.aep.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/connections'))).toEqual([]);
    expect(h.aep.connections()).toHaveLength(0);
    h.expectNoSecretsIn(err.message);
  });
});

describe('Create is idempotent (adopt by marker)', () => {
  test('a second Create for the same logical id (Lambda died after POST) adopts the first connection', async () => {
    const key = h.seedKey();
    const first = await handler(cfnEvent('Create', h.destinationAccessKeyProps(key)));
    const second = await handler(cfnEvent('Create', h.destinationAccessKeyProps(key)));
    expect(second.PhysicalResourceId).toBe(first.PhysicalResourceId);
    expect(h.aep.connections()).toHaveLength(1);
    expect(h.aep.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/connections'))).toHaveLength(1);
  });

  test('another logical id with the same name is a different connection', async () => {
    const key = h.seedKey();
    const a = await handler(cfnEvent('Create', h.destinationAccessKeyProps(key), { logicalId: 'A' }));
    const b = await handler(cfnEvent('Create', h.destinationAccessKeyProps(key), { logicalId: 'B' }));
    expect(a.PhysicalResourceId).not.toBe(b.PhysicalResourceId);
    expect(h.aep.connections()).toHaveLength(2);
  });
});

describe('Update', () => {
  async function created() {
    const key = h.seedKey();
    const props = h.destinationAccessKeyProps(key);
    const res = await handler(cfnEvent('Create', props));
    h.aep.resetRecording();
    return { key, props, id: res.PhysicalResourceId, etag: res.Data![Attributes.ETAG] };
  }

  test('description change and key rotation (ChangeToken) patch in place with If-Match', async () => {
    const { props, id, etag } = await created();
    const rotated = h.seedKey('aep/s3-user-key'); // same secret, new key
    const next = { ...props, [ConnectionProps.DESCRIPTION]: 'Rotated', [ConnectionProps.CHANGE_TOKEN]: rotated.accessKeyId };
    const res = await handler(cfnEvent('Update', next, { physicalId: id, oldProps: props }));

    expect(res.PhysicalResourceId).toBe(id);
    expect(res.Data![Attributes.ETAG]).not.toBe(etag);
    const stored = h.aep.getConnection(id)!;
    expect(stored.description).toMatch(/^Rotated \[cdk-aep-s3:/);
    expect(stored.auth.params).toMatchObject({ s3AccessKey: rotated.accessKeyId, s3SecretKey: rotated.secretAccessKey });
    const patch = h.aep.requests.find((r) => r.method === 'PATCH')!;
    expect(patch.headers['if-match']).toBe(etag);
    expect((patch.body as Array<{ op: string; path: string }>).map((o) => `${o.op} ${o.path}`)).toEqual(['replace /description', 'replace /auth/params']);
    expect(h.aep.connections()).toHaveLength(1);
  });

  test('no change is a no-op that still returns the etag', async () => {
    const { props, id, etag } = await created();
    const res = await handler(cfnEvent('Update', props, { physicalId: id, oldProps: props }));
    expect(res).toEqual({ PhysicalResourceId: id, Data: { [Attributes.CONNECTION_ID]: id, [Attributes.ETAG]: etag } });
    expect(h.aep.requests.filter((r) => r.method !== 'GET' && r.path !== '/ims/token/v3')).toEqual([]);
    expect(h.aws.calls.filter((c) => c.action === 'GetCallerIdentity')).toHaveLength(1); // only the Create's
  });

  test('a stale etag (412) is re-read and the PATCH retried once', async () => {
    const { props, id } = await created();
    h.aep.inject({ match: { method: 'PATCH' }, kind: 'status', status: 412 });
    const res = await handler(cfnEvent('Update', { ...props, [ConnectionProps.NAME]: 'renamed' }, { physicalId: id, oldProps: props }));
    expect(res.PhysicalResourceId).toBe(id);
    expect(h.aep.getConnection(id)!.name).toBe('renamed');
    expect(h.aep.requests.filter((r) => r.method === 'PATCH').map((r) => r.status)).toEqual([412, 200]);
    expect(h.aep.pendingFaults).toBe(0);
  });

  test('encryption added later is patched in', async () => {
    const { props, id } = await created();
    const encryption = { specName: 'File Encryption', params: { encryptionAlgo: 'PGP/GPG', publicKey: PUBLIC_KEY } };
    await handler(cfnEvent('Update', { ...props, [ConnectionProps.ENCRYPTION]: encryption }, { physicalId: id, oldProps: props }));
    expect(h.aep.getConnection(id)!.encryption).toEqual(encryption);
  });

  test('a connection deleted outside CloudFormation is created again (AEP is the source of truth), with a new id', async () => {
    const { props, id } = await created();
    await handler(cfnEvent('Delete', props, { physicalId: id }));
    const res = await handler(cfnEvent('Update', { ...props, [ConnectionProps.NAME]: 'x' }, { physicalId: id, oldProps: props }));
    expect(res.PhysicalResourceId).not.toBe(id);
    expect(h.aep.connections().map((c) => [c.id, c.name])).toEqual([[res.PhysicalResourceId, 'x']]);
    // CloudFormation's cleanup Delete of the old id then finds it gone.
    await handler(cfnEvent('Delete', props, { physicalId: id }));
    expect(h.aep.connections()).toHaveLength(1);
  });

  test.each([
    ['connection spec', { [ConnectionProps.CONNECTION_SPEC_ID]: AepIds.S3_SOURCE_CONNECTION_SPEC }],
    ['auth spec', {
      [ConnectionProps.AUTH_SPEC_NAME]: 'Assumed Role',
      [ConnectionProps.AUTH_PARAMS]: { s3Role: 'arn:aws:iam::111122223333:role/aep-export' },
      [ConnectionProps.AUTH_SECRET_ARN]: '',
      [ConnectionProps.AUTH_SECRET_FIELDS]: {},
      [ConnectionProps.VERIFY_AWS_KEY]: 'false',
    }],
    ['sandbox', { [CommonProps.SANDBOX_NAME]: 'dev' }],
  ])('%s change creates a replacement with a new id and leaves the old one for CloudFormation to delete', async (_what, change) => {
    const { props, id } = await created();
    const next = { ...props, ...change };
    const res = await handler(cfnEvent('Update', next, { physicalId: id, oldProps: props }));
    expect(res.PhysicalResourceId).not.toBe(id);
    expect(res.Data![Attributes.CONNECTION_ID]).toBe(res.PhysicalResourceId);
    expect(h.aep.connections().map((c) => c.id).sort()).toEqual([id, res.PhysicalResourceId].sort());
    // CloudFormation then deletes the old one with the old properties.
    await handler(cfnEvent('Delete', props, { physicalId: id }));
    expect(h.aep.connections().map((c) => c.id)).toEqual([res.PhysicalResourceId]);
  });

  test('a new credentials secret for the same org is an in-place update, not a replacement', async () => {
    const { props, id } = await created();
    const movedArn = h.aws.putSecret('aep/oauth-renamed', JSON.stringify(h.aep.credentials));
    const next = { ...props, [CommonProps.CREDENTIALS_SECRET_ARN]: movedArn, [ConnectionProps.DESCRIPTION]: 'moved secret' };
    const res = await handler(cfnEvent('Update', next, { physicalId: id, oldProps: props }));
    expect(res.PhysicalResourceId).toBe(id);
    expect(h.aep.connections().map((c) => c.id)).toEqual([id]);
  });
});

describe('Delete', () => {
  test('deletes the connection; a second delete (already gone, 404) succeeds too', async () => {
    const props = h.destinationAccessKeyProps(h.seedKey());
    const { PhysicalResourceId: id } = await handler(cfnEvent('Create', props));
    await expect(handler(cfnEvent('Delete', props, { physicalId: id }))).resolves.toEqual({ PhysicalResourceId: id });
    expect(h.aep.connections()).toHaveLength(0);
    await expect(handler(cfnEvent('Delete', props, { physicalId: id }))).resolves.toEqual({ PhysicalResourceId: id });
  });

  test('retain leaves the connection in AEP with its adoption marker retired, and a later create never adopts it', async () => {
    const props = h.destinationAccessKeyProps(h.seedKey(), { [ConnectionProps.REMOVAL_POLICY]: RemovalPolicies.RETAIN });
    const { PhysicalResourceId: id } = await handler(cfnEvent('Create', props));
    await handler(cfnEvent('Delete', props, { physicalId: id }));
    expect(h.aep.connections()).toHaveLength(1);
    expect(h.aep.getConnection(id)!.description).toMatch(/^Managed by CloudFormation \[cdk-aep-s3-retained:us-east-1:123456789012:aep-test\/.+\/Connection1\]$/);
    expect(h.aep.getConnection(id)!.description).not.toContain('[cdk-aep-s3:');
    // The same logical id in the same stack (e.g. re-added after removal) gets a new connection.
    const again = await handler(cfnEvent('Create', props));
    expect(again.PhysicalResourceId).not.toBe(id);
    expect(h.aep.connections()).toHaveLength(2);
  });

  test('a connection still in use fails with what to do', async () => {
    const props = h.destinationAccessKeyProps(h.seedKey());
    const { PhysicalResourceId: id } = await handler(cfnEvent('Create', props));
    await handler(cfnEvent('Create', {
      ...h.common(),
      [TargetConnectionProps.NAME]: 'exports',
      [TargetConnectionProps.CONNECTION_SPEC_ID]: AepIds.S3_DESTINATION_CONNECTION_SPEC,
      [TargetConnectionProps.BASE_CONNECTION_ID]: id,
      [TargetConnectionProps.PARAMS]: { mode: 'Server-to-server', bucketName: 'acme-exports', path: 'aep', fileType: 'CSV', compression: 'GZIP' },
    }, { resourceType: ResourceTypes.TARGET_CONNECTION, logicalId: 'Target' }));
    const err = await rejectionOf(() => handler(cfnEvent('Delete', props, { physicalId: id })));
    expect(err.message).toMatch(/still used by dataflows/);
    expect(err.message).toMatch(/Delete the dataflows that use it first, or set the removal policy to RETAIN/);
    expect(h.aep.getConnection(id)).toBeDefined();
  });
});

describe('TrustedImsOrgId on the older Custom::AepConnection type', () => {
  test('a credential of another org is refused before the POST; the trusted org registers as before', async () => {
    const roleSecret = h.aws.putSecret('aep/role-arn', JSON.stringify({ roleArn: 'arn:aws:iam::123456789012:role/aep-export-3Jq8Lw2Rv' }));
    const props = (trusted: string) => ({
      ...h.common(),
      [ConnectionProps.NAME]: 'acme-aep-s3-dest-role',
      [ConnectionProps.CONNECTION_SPEC_ID]: AepIds.S3_DESTINATION_CONNECTION_SPEC,
      [ConnectionProps.AUTH_SPEC_NAME]: 'Assumed Role',
      [ConnectionProps.AUTH_SECRET_ARN]: roleSecret,
      [ConnectionProps.AUTH_SECRET_FIELDS]: { s3Role: 'roleArn' },
      [ConnectionProps.TRUSTED_IMS_ORG_ID]: trusted,
    });
    const err = await rejectionOf(() => handler(cfnEvent('Create', props('OTHERORG42@AdobeOrg'))));
    expect(err.message).toContain(`belongs to IMS org ${h.aep.credentials.orgId}, but the destination role's trust admits AEP only for IMS org OTHERORG42@AdobeOrg`);
    expect(h.aep.requests.filter((r) => r.method !== 'GET')).toEqual([]);
    const res = await handler(cfnEvent('Create', props(h.aep.credentials.orgId)));
    expect(h.aep.getConnection(res.PhysicalResourceId)!.auth?.specName).toBe('Assumed Role');
  });
});
