/**
 * Deploy-time reachability: the source asks AEP to explore its folder after the connection is
 * made; a destination access key lists its export folder (S3 ListObjectsV2) before registering.
 */
import { cfnEvent, rejectionOf, FAULT_KNOBS, useHarness } from './harness';
import { handler } from '../../src/handler/aep.lambda';
import { LAMBDA_SAFETY_MARGIN_MS } from '../../src/plumbing/config';
import { AepIds, ConnectionProps } from '../../src/private/contract';

const h = useHarness(FAULT_KNOBS);
const BUCKET = 'acme-aep-inbound';
const CHECK = { [ConnectionProps.REACHABILITY_BUCKET]: BUCKET, [ConnectionProps.REACHABILITY_FOLDER]: 'crm/' };

/**
 * A denied listing is retried until the check's deadline (AWS_KEY_PROBE_DEADLINE_MS, 3 s in
 * TEST_KNOBS), since a fresh policy may still be propagating. What the tests below assert about
 * the failure holds for any deadline, so they wait 1 s instead of 3 s for it.
 */
async function withShortProbeDeadline<T>(run: () => Promise<T>): Promise<T> {
  const saved = process.env.AWS_KEY_PROBE_DEADLINE_MS;
  process.env.AWS_KEY_PROBE_DEADLINE_MS = '1000';
  try {
    return await run();
  } finally {
    process.env.AWS_KEY_PROBE_DEADLINE_MS = saved;
  }
}

function explores() {
  return h.aep.requests.filter((r) => r.path.endsWith('/explore'));
}

describe('source: AEP explores the folder', () => {
  test('after a Create, one explore of bucket/folder; nothing else added', async () => {
    const res = await handler(cfnEvent('Create', h.sourceSessionTokenProps(h.seedKey(), 3600, CHECK)));
    expect(explores().map((r) => [r.status, r.query])).toEqual([[200, { objectType: 'folder', object: `${BUCKET}/crm` }]]);
    expect(h.aep.getConnection(res.PhysicalResourceId)).toBeDefined();
  });

  test('no explore when the check is off (no ReachabilityBucket)', async () => {
    await handler(cfnEvent('Create', h.sourceSessionTokenProps(h.seedKey(), 3600)));
    expect(explores()).toEqual([]);
  });

  test('AEP cannot list the folder: the Create fails naming the likely causes and removes the connection it made', async () => {
    h.aws.denyS3Listing(BUCKET);
    const err = await withShortProbeDeadline(() => rejectionOf(() => handler(cfnEvent('Create', h.sourceSessionTokenProps(h.seedKey(), 3600, CHECK)))));
    expect(err.message).toMatch(/AEP cannot list s3:\/\/acme-aep-inbound\/crm\/ through connection/);
    expect(err.message).toMatch(/Access Denied/);
    expect(err.message).toMatch(/bucket policy .* not attached.*region.*KMS key policy.*not valid yet/);
    expect(err.message).toMatch(/the connection was removed/);
    expect(explores().length).toBeGreaterThan(1); // retried while policies propagate
    expect(h.aep.connections()).toEqual([]);
    h.aep.resetRecording();
  });

  test('a check that would run into the Lambda deadline stops early enough for the cleanup DELETE', async () => {
    h.aws.denyS3Listing(BUCKET);
    // Each explore takes a while (AEP asks S3), so the last one ends at the deadline, not before.
    h.aep.inject({ kind: 'delay', delayMs: 150, times: 1000, match: { method: 'GET', path: /\/explore$/ } });
    // Less time left than the check's own budget (AWS_KEY_PROBE_DEADLINE_MS 3 s).
    const lambda = { getRemainingTimeInMillis: () => LAMBDA_SAFETY_MARGIN_MS + 1500 };
    const err = await rejectionOf(() => handler(cfnEvent('Create', h.sourceSessionTokenProps(h.seedKey(), 3600, CHECK)), lambda));
    expect(err.message).toMatch(/the connection was removed/);
    expect(h.aep.connections()).toEqual([]);
    const deletes = h.aep.requests.filter((r) => r.method === 'DELETE');
    expect(deletes.map((r) => r.status)).toEqual([204]);
    h.aep.clearFaults();
    h.aep.resetRecording();
  });

  test('a cleanup DELETE that fails is never reported as a removal: the message says the connection may remain, with its id', async () => {
    h.aws.denyS3Listing(BUCKET);
    h.aep.inject({ kind: 'status', status: 500, times: 1000, match: { method: 'DELETE', path: /\/connections\/[^/]+$/ } });
    const err = await withShortProbeDeadline(() => rejectionOf(() => handler(cfnEvent('Create', h.sourceSessionTokenProps(h.seedKey(), 3600, CHECK)))));
    h.aep.clearFaults();
    const [left] = h.aep.connections();
    expect(left).toBeDefined();
    expect(err.message).not.toMatch(/was removed/);
    expect(err.message).toMatch(new RegExp(`may remain in AEP with its credentials: delete connection ${left.id} in AEP by hand`));
    h.aep.resetRecording();
  });

  test('IAMRole Based: explore is decided by whether the AEP role may list the prefix (authorizer = IAM as evaluated)', async () => {
    const props = {
      ...h.common(),
      [ConnectionProps.NAME]: 'src-aws',
      [ConnectionProps.CONNECTION_SPEC_ID]: AepIds.S3_SOURCE_CONNECTION_SPEC,
      [ConnectionProps.AUTH_SPEC_NAME]: 'IAMRole Based',
      [ConnectionProps.AUTH_PARAMS]: { bucketName: BUCKET },
      ...CHECK,
    };
    const asked: string[] = [];
    h.aws.setAuthorizer((r) => {
      if (!r.action.startsWith('s3:')) return 'allowed'; // the handler's own Secrets Manager reads
      asked.push(`${r.principalArn} ${r.action} ${r.resourceArn} ${r.context['s3:prefix']}`);
      return r.context['s3:prefix'] === 'crm/' ? 'allowed' : 'denied';
    });
    try {
      await handler(cfnEvent('Create', props));
      expect(asked).toEqual([`arn:aws:iam::123456789012:role/aep-ingest-va6 s3:ListBucket arn:aws:s3:::${BUCKET} crm/`]);
      const err = await withShortProbeDeadline(() => rejectionOf(() => handler(cfnEvent('Create', { ...props, [ConnectionProps.REACHABILITY_FOLDER]: 'other/' }, { logicalId: 'Other' }))));
      expect(err.message).toMatch(/AEP cannot list s3:\/\/acme-aep-inbound\/other\//);
      expect(h.aep.connections()).toHaveLength(1);
      h.aep.resetRecording();
    } finally {
      h.aws.setAuthorizer(undefined);
    }
  });
});

describe('destination access key: ListObjectsV2 on the export folder', () => {
  test('replaces the STS probe: one S3 call, no GetCallerIdentity', async () => {
    await handler(cfnEvent('Create', h.destinationAccessKeyProps(h.seedKey(), CHECK)));
    const calls = h.aws.calls.filter((c) => c.service !== 'secretsmanager').map((c) => `${c.service}:${c.action}:${c.status}`);
    expect(calls).toEqual(['s3:ListObjectsV2:200']);
  });

  test('waits out a key that is not valid yet', async () => {
    await handler(cfnEvent('Create', h.destinationAccessKeyProps(h.seedKey('aep/k', 2), CHECK)));
    expect(h.aws.calls.filter((c) => c.service === 's3').map((c) => c.status)).toEqual([403, 403, 200]);
  });

  test('a bucket in another region than the Lambda: the probe follows S3\'s redirect to the bucket\'s region and the Create succeeds', async () => {
    h.aws.putBucket(BUCKET, { region: 'eu-west-1' });
    const res = await handler(cfnEvent('Create', h.destinationAccessKeyProps(h.seedKey(), CHECK)));
    const s3 = h.aws.calls.filter((c) => c.service === 's3').map((c) => `${c.region}:${c.status}${c.errorCode ? ` ${c.errorCode}` : ''}`);
    expect(s3).toEqual([`${h.aws.region}:301 PermanentRedirect`, 'eu-west-1:200']);
    expect(h.aep.getConnection(res.PhysicalResourceId)).toBeDefined();
  });

  test('a bucket in the Lambda\'s own region is listed in one call, without a redirect', async () => {
    h.aws.putBucket(BUCKET, { region: h.aws.region });
    await handler(cfnEvent('Create', h.destinationAccessKeyProps(h.seedKey(), CHECK)));
    expect(h.aws.calls.filter((c) => c.service === 's3').map((c) => `${c.region}:${c.status}`)).toEqual([`${h.aws.region}:200`]);
  });

  test('a listing the IAM policy denies fails before registering anything', async () => {
    h.aws.denyS3Listing(BUCKET);
    const err = await withShortProbeDeadline(() => rejectionOf(() => handler(cfnEvent('Create', h.destinationAccessKeyProps(h.seedKey(), CHECK)))));
    expect(err.message).toMatch(/cannot list s3:\/\/acme-aep-inbound\/crm\/ \(AccessDenied/);
    expect(err.message).toMatch(/nothing was registered/);
    expect(h.aep.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/connections'))).toEqual([]);
  });
});
