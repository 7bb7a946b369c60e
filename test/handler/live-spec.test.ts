/**
 * The handler builds connection requests from the connection spec AEP serves
 * (GET /connectionSpecs/{id}), under each documented variant the stand-in can serve, and fails
 * before POSTing when the live spec rejects what the construct asked for.
 */
import { cfnEvent, rejectionOf, useHarness } from './harness';
import { AepStandIn } from '../../offline-world/stand-in';
import { forgetConnectionSpecs } from '../../src/aep/connection-specs';
import { handler, refreshHandler } from '../../src/handler/aep.lambda';
import { AepIds, CommonProps, ConnectionProps, encodeAllowedEndpoints, HandlerEnvironment } from '../../src/private/contract';

const h = useHarness();

const PUBLIC_KEY = 'QUJDREVGR0g=';
/** What the construct sends: the current-docs shape; the handler re-shapes it from the live spec. */
const ENCRYPTION = { specName: 'File Encryption', params: { encryptionAlgo: 'PGP/GPG', publicKey: PUBLIC_KEY } };

function iamRoleSourceProps(params: Record<string, string>): Record<string, unknown> {
  return {
    ...h.common(),
    [ConnectionProps.NAME]: 'acme-aep-s3-src-aws',
    [ConnectionProps.CONNECTION_SPEC_ID]: AepIds.S3_SOURCE_CONNECTION_SPEC,
    [ConnectionProps.AUTH_SPEC_NAME]: 'IAMRole Based',
    [ConnectionProps.AUTH_PARAMS]: params,
  };
}

function posts(): number {
  return h.aep.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/connections')).length;
}

describe('encryption block from the live spec', () => {
  test('current docs (enum PGP/GPG): top-level encryption named "File Encryption"', async () => {
    const res = await handler(cfnEvent('Create', h.destinationAccessKeyProps(h.seedKey(), { [ConnectionProps.ENCRYPTION]: ENCRYPTION })));
    const stored = h.aep.getConnection(res.PhysicalResourceId)!;
    expect(stored.encryption).toEqual({ specName: 'File Encryption', params: { encryptionAlgo: 'PGP/GPG', publicKey: PUBLIC_KEY } });
    expect(stored.encryptionSpecs).toBeUndefined();
  });

  test('older revision as printed (enum PGPGPG): encryptionSpecs named as declared, algorithm PGPGPG', async () => {
    h.aep.setConnectionSpecVariant({ encryptionAlgo: 'PGPGPG' });
    const res = await handler(cfnEvent('Create', h.destinationAccessKeyProps(h.seedKey(), { [ConnectionProps.ENCRYPTION]: ENCRYPTION })));
    const stored = h.aep.getConnection(res.PhysicalResourceId)!;
    expect(stored.encryptionSpecs).toEqual({ specName: 'File PGP/GPG Encryption', params: { encryptionAlgo: 'PGPGPG', publicKey: PUBLIC_KEY } });
    expect(stored.encryption).toBeUndefined();
  });

  test('an Update under the other variant moves the block to the key the live spec pairs with', async () => {
    const props = h.destinationAccessKeyProps(h.seedKey(), { [ConnectionProps.ENCRYPTION]: ENCRYPTION });
    const created = await handler(cfnEvent('Create', props));
    h.aep.setConnectionSpecVariant({ encryptionAlgo: 'PGPGPG' });
    forgetConnectionSpecs(); // a new container after AEP changed its spec
    await handler(cfnEvent('Update', props, { physicalId: created.PhysicalResourceId, oldProps: props }));
    const stored = h.aep.getConnection(created.PhysicalResourceId)!;
    expect(stored.encryption).toBeUndefined();
    expect(stored.encryptionSpecs?.params.encryptionAlgo).toBe('PGPGPG');
  });
});

describe('the spec cache is per AEP environment', () => {
  test('two AEP environments serving different revisions of one spec, in one container: each connection is built from its own', async () => {
    const other = await AepStandIn.start({ connectionSpecVariant: { encryptionAlgo: 'PGPGPG' } });
    // Both environments are sandboxes of the synthesized stack, so the function allows both.
    const allowed = process.env[HandlerEnvironment.ALLOWED_ENDPOINTS];
    process.env[HandlerEnvironment.ALLOWED_ENDPOINTS] = encodeAllowedEndpoints([
      [h.aep.flowServiceUrl, h.aep.imsUrl], [other.flowServiceUrl, other.imsUrl],
    ]);
    try {
      const first = await handler(cfnEvent('Create', h.destinationAccessKeyProps(h.seedKey(), { [ConnectionProps.ENCRYPTION]: ENCRYPTION })));
      expect(h.aep.getConnection(first.PhysicalResourceId)!.encryption?.params.encryptionAlgo).toBe('PGP/GPG');
      // Same container (no forgetConnectionSpecs), same spec id, another endpoint.
      const props = {
        ...h.destinationAccessKeyProps(h.seedKey('aep/other-key'), { [ConnectionProps.ENCRYPTION]: ENCRYPTION }),
        [CommonProps.FLOW_SERVICE_URL]: other.flowServiceUrl,
        [CommonProps.IMS_URL]: other.imsUrl,
      };
      const second = await handler(cfnEvent('Create', props, { logicalId: 'OtherEnvironment' }));
      const stored = other.getConnection(second.PhysicalResourceId)!;
      expect(other.validationFailures).toEqual([]);
      expect(stored.encryptionSpecs).toEqual({ specName: 'File PGP/GPG Encryption', params: { encryptionAlgo: 'PGPGPG', publicKey: PUBLIC_KEY } });
      expect(stored.encryption).toBeUndefined();
      expect(other.requests.filter((r) => r.path.includes('/connectionSpecs/')).length).toBeGreaterThan(0);
    } finally {
      process.env[HandlerEnvironment.ALLOWED_ENDPOINTS] = allowed;
      await other.close();
    }
  });
});

describe('auth spec names and params from the live spec', () => {
  test('older revision: Assumed Role is not offered, so the Create fails before POSTing and says what AEP offers', async () => {
    h.aep.setConnectionSpecVariant({ revision: 'older' });
    const err = await rejectionOf(() => handler(cfnEvent('Create', {
      ...h.common(),
      [ConnectionProps.NAME]: 'acme-aep-s3-dest-role',
      [ConnectionProps.CONNECTION_SPEC_ID]: AepIds.S3_DESTINATION_CONNECTION_SPEC,
      [ConnectionProps.AUTH_SPEC_NAME]: 'Assumed Role',
      [ConnectionProps.AUTH_PARAMS]: { s3Role: 'arn:aws:iam::123456789012:role/aep-export-7Qk2x9' },
    })));
    expect(err.message).toMatch(/offers no auth spec 'Assumed Role' \(it offers: 'Access Key'\); choose an authentication mode/);
    expect(posts()).toBe(0);
  });

  test.each([true, false])('IAMRole Based without folderPath is accepted whether or not the spec declares folderPath (%s)', async (declared) => {
    h.aep.setConnectionSpecVariant({ iamRoleFolderPath: declared });
    const res = await handler(cfnEvent('Create', iamRoleSourceProps({ bucketName: 'acme-aep-inbound' })));
    expect(h.aep.getConnection(res.PhysicalResourceId)!.auth.params).toEqual({ bucketName: 'acme-aep-inbound' });
  });

  test('IAMRole Based with folderPath is sent when the live spec declares it', async () => {
    const res = await handler(cfnEvent('Create', iamRoleSourceProps({ bucketName: 'acme-aep-inbound', folderPath: 'crm' })));
    expect(h.aep.getConnection(res.PhysicalResourceId)!.auth.params.folderPath).toBe('crm');
  });

  test('IAMRole Based with folderPath fails before POSTing when the live spec lacks it, naming param, declaration and fix', async () => {
    h.aep.setConnectionSpecVariant({ iamRoleFolderPath: false });
    const err = await rejectionOf(() => handler(cfnEvent('Create', iamRoleSourceProps({ bucketName: 'acme-aep-inbound', folderPath: 'crm' }))));
    expect(err.message).toMatch(/param 'folderPath' is not declared by 'IAMRole Based' \(AEP declares: bucketName\)/);
    expect(err.message).toMatch(/leave folderPath unset/);
    expect(posts()).toBe(0);
  });

  test('the live spec is read once per container per spec id', async () => {
    const key = h.seedKey();
    await handler(cfnEvent('Create', h.destinationAccessKeyProps(key)));
    await handler(cfnEvent('Create', h.destinationAccessKeyProps(key, { [ConnectionProps.NAME]: 'second' }), { logicalId: 'Connection2' }));
    expect(h.aep.requests.filter((r) => r.status === 200 && r.path.endsWith(`/connectionSpecs/${AepIds.S3_DESTINATION_CONNECTION_SPEC}`))).toHaveLength(1);
  });
});

describe('session-token refresh PATCH follows the live auth spec', () => {
  async function refreshOps(): Promise<string[]> {
    const key = h.seedKey();
    const created = await handler(cfnEvent('Create', h.sourceSessionTokenProps(key, 3600)));
    h.rememberStoredSecrets();
    const before = h.aep.getConnection(created.PhysicalResourceId)!;
    h.aep.resetRecording();
    await refreshHandler(h.refreshEvent(created.PhysicalResourceId, key));
    const after = h.aep.getConnection(created.PhysicalResourceId)!;
    expect(after.auth.params.s3SessionToken).not.toBe(before.auth.params.s3SessionToken);
    const patch = h.aep.requests.find((r) => r.method === 'PATCH')!;
    expect(patch.status).toBe(200);
    return (patch.body as Array<{ op: string; path: string }>).map((o) => `${o.op} ${o.path}`);
  }

  test('three-op shape when the key id and secret are replaceable', async () => {
    expect(await refreshOps()).toEqual([
      'replace /auth/params/s3AccessKey', 'replace /auth/params/s3SecretKey', 'replace /auth/params/s3SessionToken',
    ]);
  });

  test('one-op (token-only) shape when AEP keeps the key id and secret (readOnly), as documented', async () => {
    h.aep.setConnectionSpecVariant({ sessionTokenRefresh: 'token-only' });
    expect(await refreshOps()).toEqual(['replace /auth/params/s3SessionToken']);
  });

  test('the stand-in refuses a three-op PATCH under the token-only spec (the model is strict)', async () => {
    const key = h.seedKey();
    h.aep.setConnectionSpecVariant({ sessionTokenRefresh: 'token-only' });
    const created = await handler(cfnEvent('Create', h.sourceSessionTokenProps(key, 3600)));
    await h.aep.uiPatch('/connections', created.PhysicalResourceId, [{ op: 'replace', path: '/auth/params/s3SecretKey', value: 'A'.repeat(40) }])
      .then(() => { throw new Error('expected a 400'); }, (err: Error) => expect(err.message).toMatch(/s3SecretKey is readOnly/));
    h.aep.resetRecording();
  });
});
