/**
 * Every outbound call per lifecycle event, counted from the stand-ins' recordings (IMS and Flow
 * Service from `aep.requests`, Secrets Manager and STS from `aws.calls`). Events run in order in
 * one module instance, as in one warm Lambda container: the first event pays the container's
 * one-off reads (AEP credential, IMS token), later ones must not repeat them.
 */
import { cfnEvent, useHarness } from './harness';
import { handler, refreshHandler } from '../../src/handler/aep.lambda';
import { CommonProps, ConnectionProps } from '../../src/private/contract';

const h = useHarness();

interface Tally { ims: number; flow: number; secrets: number; sts: number }

function tally(): Tally {
  const t = {
    ims: h.aep.requests.filter((r) => r.path.startsWith('/ims/')).length,
    flow: h.aep.requests.filter((r) => !r.path.startsWith('/ims/')).length,
    secrets: h.aws.calls.filter((c) => c.service === 'secretsmanager').length,
    sts: h.aws.calls.filter((c) => c.service === 'sts').length,
  };
  h.aep.resetRecording();
  h.aws.calls.length = 0;
  return t;
}

const seen: Record<string, Tally> = {};
afterAll(() => {
  // The numbers the bench and the issue report quote.
  process.stderr.write(`outbound calls per event: ${JSON.stringify(seen, null, 1)}\n`);
});

// One test: the harness resets the stand-ins between tests (which revokes every IMS token), and
// what is measured is one container's life.
test('one warm container: access-key destination, session-token source, a fresh key', async () => {
  const key = h.seedKey('aep/dest-key', 0);
  const props = h.destinationAccessKeyProps(key);
  const created = await handler(cfnEvent('Create', props));
  seen['destination Create (cold container)'] = tally();
  const id = created.PhysicalResourceId;

  const described = { ...props, [ConnectionProps.DESCRIPTION]: 'renamed' };
  await handler(cfnEvent('Update', described, { physicalId: id, oldProps: props }));
  seen['destination Update (description)'] = tally();

  const rotated = h.seedKey('aep/dest-key-2', 0);
  const rotatedProps = h.destinationAccessKeyProps(rotated, { [ConnectionProps.DESCRIPTION]: 'renamed' });
  await handler(cfnEvent('Update', rotatedProps, { physicalId: id, oldProps: described }));
  seen['destination Update (key rotated)'] = tally();

  // A new credentials secret (new ARN) and a sandbox change: the Update reads the credential
  // once although it both looks up the old object and creates the replacement.
  const movedArn = h.aws.putSecret('aep/oauth-moved', JSON.stringify(h.aep.credentials));
  const moved = { ...rotatedProps, [CommonProps.CREDENTIALS_SECRET_ARN]: movedArn, [CommonProps.SANDBOX_NAME]: 'dev' };
  const replaced = await handler(cfnEvent('Update', moved, { physicalId: id, oldProps: rotatedProps }));
  seen['destination Update (new credentials secret + sandbox: replacement)'] = tally();

  await handler(cfnEvent('Delete', moved, { physicalId: replaced.PhysicalResourceId }));
  seen['destination Delete'] = tally();

  const srcKey = h.seedKey('aep/src-key', 0);
  const srcProps = h.sourceSessionTokenProps(srcKey, 3600);
  const source = await handler(cfnEvent('Create', srcProps, { logicalId: 'Source1' }));
  seen['source Create'] = tally();
  const srcId = source.PhysicalResourceId;

  await refreshHandler(h.refreshEvent(srcId, srcKey));
  seen['source Refresh'] = tally();

  const srcDescribed = { ...srcProps, [ConnectionProps.DESCRIPTION]: 'renamed' };
  await handler(cfnEvent('Update', srcDescribed, { logicalId: 'Source1', physicalId: srcId, oldProps: srcProps }));
  seen['source Update (description)'] = tally();

  await handler(cfnEvent('Delete', srcDescribed, { logicalId: 'Source1', physicalId: srcId }));
  seen['source Delete'] = tally();

  const fresh = h.seedKey('aep/fresh-key', 3);
  await handler(cfnEvent('Create', h.destinationAccessKeyProps(fresh), { logicalId: 'Fresh1' }));
  seen['destination Create, 3 propagation failures'] = tally();

  // The AEP credential is read once per container and secret ARN; the IMS token once per
  // container and client; auth secrets and STS only by the events that push auth params.
  expect(seen).toEqual({
    'destination Create (cold container)': { ims: 1, flow: 3, secrets: 2, sts: 1 }, // flow: spec read (once per container), lookup, POST
    'destination Update (description)': { ims: 0, flow: 3, secrets: 0, sts: 0 },
    'destination Update (key rotated)': { ims: 0, flow: 3, secrets: 1, sts: 1 },
    // Another sandbox is another AEP environment: its spec is read once too.
    'destination Update (new credentials secret + sandbox: replacement)': { ims: 0, flow: 4, secrets: 2, sts: 1 },
    'destination Delete': { ims: 0, flow: 3, secrets: 0, sts: 0 },
    'source Create': { ims: 0, flow: 3, secrets: 1, sts: 2 }, // the source spec is read once too
    'source Refresh': { ims: 0, flow: 2, secrets: 1, sts: 1 },
    'source Update (description)': { ims: 0, flow: 3, secrets: 0, sts: 0 },
    'source Delete': { ims: 0, flow: 3, secrets: 0, sts: 0 },
    'destination Create, 3 propagation failures': { ims: 0, flow: 2, secrets: 1, sts: 4 },
  });
});
