/**
 * Proves each world invariant catches its violation and passes a clean world, against the real
 * AEP stand-in over HTTP (recordings) and a small fake AWS key oracle.
 */
import axios from 'axios';
import {
  aepRecordingTexts, assertWorldInvariants, AwsKeyOracle, checkWorldInvariants, findSecretLeaks, redactSecrets, SecretSet,
} from '../../offline-world/invariants';
import { AepStandIn, fakeAccessKeyId, fakeSecretAccessKey, fakeSessionToken } from '../../offline-world/stand-in';
import { AepIds } from '../../src/private/contract';

const KEY_ID = fakeAccessKeyId('AKIA', 'inv-dest');
const SECRET = fakeSecretAccessKey('inv-dest');
const OTHER_SECRET = fakeSecretAccessKey('inv-other');
const TOKEN = fakeSessionToken('inv');

/** A fake AWS whose keys work until deleted. */
class FakeAws implements AwsKeyOracle {
  private readonly live = new Set<string>();
  constructor(...keys: string[]) {
    keys.forEach((k) => this.live.add(k));
  }
  accessKeyWorks(id: string): boolean {
    return this.live.has(id);
  }
  delete(id: string): void {
    this.live.delete(id);
  }
}

describe('findSecretLeaks', () => {
  test('finds a whole secret, reports where and which, never the secret', () => {
    const text = `prefix ${SECRET} suffix`;
    const leaks = findSecretLeaks({ log: text, other: 'clean' }, ['short', SECRET]);
    expect(leaks).toEqual([expect.objectContaining({ text: 'log', offset: 7, length: 40, secretIndex: 1, forms: ['raw'] })]);
    expect(JSON.stringify(leaks)).not.toContain(SECRET.substring(0, 8));
    expect(leaks[0].hint).toBe('secret #1 (40 chars): a 40-char piece (raw) at offset 7');
  });

  test('a secret straddling a 500-character cut: the surviving 8+ char prefix is found', () => {
    const message = `${'x'.repeat(490)}${SECRET} and more text after it`;
    const cut = message.substring(0, 500); // 10 characters of the secret survive
    const leaks = findSecretLeaks([cut], [SECRET]);
    expect(leaks).toEqual([expect.objectContaining({ text: '#0', offset: 490, length: 10, secretIndex: 0 })]);
    // 7 surviving characters are below the threshold by definition.
    expect(findSecretLeaks([message.substring(0, 497)], [SECRET])).toEqual([]);
  });

  test('a middle piece of 8 characters is found; 7 are not', () => {
    expect(findSecretLeaks([`a${SECRET.substring(13, 21)}b`], [SECRET])).toHaveLength(1);
    expect(findSecretLeaks([`a${SECRET.substring(13, 20)}b`], [SECRET])).toEqual([]);
  });

  test('JSON-escaped and URL-encoded forms are found', () => {
    const secret = 'ab/cd+ef"gh ij/kl';
    const json = JSON.stringify({ v: secret });
    const slashEscaped = json.replace(/\//g, '\\/');
    const url = `https://x.test/?k=${encodeURIComponent(secret)}`;
    const form = new URLSearchParams({ k: secret }).toString();
    const lowerHex = encodeURIComponent(secret).replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase());
    for (const [text, form_] of [[json, 'json'], [slashEscaped, 'json'], [url, 'url'], [form, 'url'], [lowerHex, 'url']] as const) {
      const leaks = findSecretLeaks([text], [secret]);
      expect(leaks.length).toBeGreaterThan(0);
      expect(leaks.flatMap((l) => l.forms)).toContain(form_);
    }
    // The whole encoded secret is one merged leak.
    expect(findSecretLeaks([url], [secret])).toEqual([expect.objectContaining({ length: encodeURIComponent(secret).length })]);
  });

  test('secrets shorter than minLength are ignored; minLength is configurable', () => {
    expect(findSecretLeaks(['prod sandbox prod'], ['prod'])).toEqual([]);
    expect(findSecretLeaks(['prod sandbox prod'], ['prod'], 4)).toHaveLength(2);
  });

  test('a SecretSet, grown between scans and given a secret twice, finds the leaks the plain list finds', () => {
    const set = new SecretSet();
    const texts = [`a ${SECRET.substring(3, 20)} b`, `c ${encodeURIComponent(OTHER_SECRET)} d ${JSON.stringify(SECRET)}`, 'nothing here'];
    set.add(SECRET);
    expect(findSecretLeaks(texts, set)).toEqual(findSecretLeaks(texts, [SECRET]));
    expect(findSecretLeaks(texts, set).length).toBeGreaterThan(0);
    set.add(OTHER_SECRET);
    set.add(SECRET);
    expect(set.secrets).toEqual([SECRET, OTHER_SECRET]);
    const leaks = findSecretLeaks(texts, set);
    expect(leaks).toEqual(findSecretLeaks(texts, [SECRET, OTHER_SECRET]));
    expect(new Set(leaks.map((l) => l.secretIndex))).toEqual(new Set([0, 1]));
  });

  test('redactSecrets replaces every piece, also overlapping pieces of two secrets', () => {
    const inner = SECRET.substring(5, 30);
    expect(redactSecrets(`a ${SECRET} b ${OTHER_SECRET.substring(0, 9)}`, [inner, SECRET, OTHER_SECRET])).toBe('a <secret #0,#1> b <secret #2>');
  });
});

describe('checkWorldInvariants', () => {
  let aep: AepStandIn;
  let token: string;
  const log: string[] = [];

  beforeAll(async () => {
    aep = await AepStandIn.start({ log: (line) => log.push(line) });
  });
  afterAll(async () => {
    await aep.close();
  });
  beforeEach(() => {
    aep.reset();
    log.length = 0;
    token = aep.issueToken();
  });

  async function post(path: string, body: unknown): Promise<string> {
    const res = await axios.post(`${aep.flowServiceUrl}${path}`, body, {
      headers: { ...aep.flowServiceHeaders(token), 'content-type': 'application/json' },
    });
    return res.data.id;
  }

  function destination(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      name: 'acme-aep-s3-dest',
      auth: { specName: 'Access Key', params: { s3AccessKey: KEY_ID, s3SecretKey: SECRET } },
      connectionSpec: { id: AepIds.S3_DESTINATION_CONNECTION_SPEC, version: '1.0' },
      ...overrides,
    };
  }

  async function world(): Promise<{ connectionId: string; targetId: string }> {
    const connectionId = await post('/connections', destination());
    const targetId = await post('/targetConnections', {
      name: 'acme-aep-s3-audiences',
      baseConnectionId: connectionId,
      params: { mode: 'Server-to-server', bucketName: 'acme-aep-exports', path: 'aep', fileType: 'JSON', compression: 'NONE' },
      connectionSpec: { id: AepIds.S3_DESTINATION_CONNECTION_SPEC, version: '1.0' },
    });
    await axios.get(`${aep.flowServiceUrl}/connections/${connectionId}`, { headers: aep.flowServiceHeaders(token) });
    return { connectionId, targetId };
  }

  const secrets = [SECRET, TOKEN, aepSecret()];
  function aepSecret(): string {
    return 'IMS-SECRET-do-not-leak-0001';
  }

  test('a clean world passes (recordings, logs and masked GETs carry no secret)', async () => {
    const { connectionId, targetId } = await world();
    const texts: Record<string, string> = { template: '{"Resources":{}}', ...aepRecordingTexts(aep, log) };
    expect(checkWorldInvariants({ aep, aws: new FakeAws(KEY_ID), owned: [connectionId, targetId], texts, secrets })).toEqual([]);
    expect(() => assertWorldInvariants({ aep, aws: new FakeAws(KEY_ID), owned: [connectionId, targetId], texts, secrets })).not.toThrow();
    // The recordings hold what was exchanged, so the scan has something to scan.
    expect(Object.keys(texts).filter((k) => k.startsWith('aep request'))).toHaveLength(3);
    expect(texts['aep request #2 GET /data/foundation/flowservice/connections/' + connectionId]).toContain('"s3AccessKey"');
  });

  test('an orphan (neither owned nor retained) is reported; retained ids are accepted', async () => {
    const { connectionId, targetId } = await world();
    const orphan = await post('/connections', destination({ name: 'left-behind' }));
    const aws = new FakeAws(KEY_ID);
    const violations = checkWorldInvariants({ aep, aws, owned: [connectionId, targetId], texts: [], secrets });
    expect(violations).toEqual([expect.stringMatching(new RegExp(`connection ${orphan} .*"left-behind".*orphan`))]);
    expect(checkWorldInvariants({ aep, aws, owned: [connectionId, targetId], retained: [orphan], texts: [], secrets })).toEqual([]);
  });

  test('an owned or retained id missing from AEP is reported', async () => {
    const { connectionId, targetId } = await world();
    const violations = checkWorldInvariants({
      aep, aws: new FakeAws(KEY_ID), owned: [connectionId, targetId, 'gone-1'], retained: ['gone-2'], texts: [], secrets,
    });
    expect(violations).toEqual([
      expect.stringContaining('owned id gone-1 is not in AEP'),
      expect.stringContaining('retained id gone-2 is not in AEP'),
    ]);
  });

  test('a connection whose access key no longer works (deleted in AWS) is reported', async () => {
    const { connectionId, targetId } = await world();
    const aws = new FakeAws(KEY_ID);
    aws.delete(KEY_ID);
    expect(checkWorldInvariants({ aep, aws, owned: [connectionId, targetId], texts: [], secrets })).toEqual([
      expect.stringContaining(`connection ${connectionId} (name "acme-aep-s3-dest") holds s3AccessKey ${KEY_ID}, which no longer works`),
    ]);
    const withDeleted = checkWorldInvariants({ aep, aws, owned: [connectionId, targetId], texts: [], secrets, deletedAccessKeys: [KEY_ID] });
    expect(withDeleted).toContainEqual(expect.stringContaining(`still holds access key ${KEY_ID}, deleted in AWS`));
  });

  test('a deleted key held anywhere in an AEP object is reported, even outside auth params', async () => {
    const deletedKey = fakeAccessKeyId('AKIA', 'old');
    const { connectionId, targetId } = await world();
    const described = await post('/connections', destination({ description: `rotated from ${deletedKey}` }));
    const violations = checkWorldInvariants({
      aep, aws: new FakeAws(KEY_ID), owned: [connectionId, targetId, described], texts: [], secrets,
    });
    expect(violations).toEqual([expect.stringContaining(`connection ${described} (name "acme-aep-s3-dest") holds access key ${deletedKey} outside its auth params`)]);
    expect(checkWorldInvariants({
      aep, aws: new FakeAws(KEY_ID, deletedKey), owned: [connectionId, targetId, described], texts: [], secrets, deletedAccessKeys: [deletedKey],
    })).toEqual([expect.stringContaining(`still holds access key ${deletedKey}, deleted in AWS`)]);
  });

  test('a secret sent under a non-secret key is found in the recordings, and not printed', async () => {
    const { connectionId, targetId } = await world();
    const leaky = await post('/connections', destination({ description: `key ${SECRET}` }));
    const texts = aepRecordingTexts(aep, log);
    const violations = checkWorldInvariants({ aep, aws: new FakeAws(KEY_ID), owned: [connectionId, targetId, leaky], texts, secrets });
    // Recorded by the stand-in (the description is not a secret field), and named by where only.
    expect(violations).toEqual([
      expect.stringMatching(/^secret leak in "aep request #3 POST \/data\/foundation\/flowservice\/connections": secret #0 \(40 chars\): a 40-char piece \(raw\)/),
    ]);
    expect(() => assertWorldInvariants({ aep, aws: new FakeAws(KEY_ID), owned: [connectionId, targetId, leaky], texts, secrets }))
      .toThrow(/world invariant violation\(s\):\n {2}- secret leak/);
    for (const line of violations) {
      expect(findSecretLeaks([line], secrets)).toEqual([]);
    }
  });

  test('a secret in a log line, a template or an error is found', () => {
    const texts = {
      'template': JSON.stringify({ Properties: { Token: TOKEN } }),
      'handler log': `PATCH failed: ${TOKEN.substring(100, 120)}`,
      'error': `Error: ${encodeURIComponent(SECRET)}`,
    };
    const violations = checkWorldInvariants({ aep, aws: new FakeAws(), owned: [], texts, secrets });
    expect(violations).toEqual([
      expect.stringContaining('secret leak in "template": secret #1'),
      expect.stringContaining('secret leak in "handler log": secret #1'),
      expect.stringContaining('secret leak in "error": secret #0'),
    ]);
    expect(findSecretLeaks(texts, secrets).find((l) => l.text === 'error')!.forms).toContain('url');
  });

  test('pending delayed applications are reported until the stand-in settles', async () => {
    aep.inject({ match: { method: 'POST', path: '/connections' }, kind: 'eventual', visibleAfterMs: 50 });
    const id = await post('/connections', destination());
    expect(checkWorldInvariants({ aep, aws: new FakeAws(KEY_ID), owned: [id], texts: [], secrets })).toEqual([
      expect.stringContaining('1 delayed application(s) pending'),
    ]);
    await aep.settle();
    expect(checkWorldInvariants({ aep, aws: new FakeAws(KEY_ID), owned: [id], texts: [], secrets })).toEqual([]);
  });
});
