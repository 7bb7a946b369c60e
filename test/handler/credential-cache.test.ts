import { cfnEvent, rejectionOf, useHarness } from './harness';
import { handler } from '../../src/handler/aep.lambda';
import { redact, REDACTED } from '../../src/plumbing/log';
import { CommonProps, ConnectionProps } from '../../src/private/contract';

// One module instance per test file: one Lambda container whose caches outlive invocations.
const h = useHarness();

const credentialReads = (arn: string) => h.aws.calls.filter((c) => c.action === 'GetSecretValue' && c.secretId === arn).length;

test('a warm container reads the AEP credential once, and still redacts the cached client secret in later invocations', async () => {
  const props = h.destinationAccessKeyProps(h.seedKey());
  const { PhysicalResourceId: id } = await handler(cfnEvent('Create', props));
  await handler(cfnEvent('Update', { ...props, [ConnectionProps.DESCRIPTION]: 'second' }, { physicalId: id, oldProps: props }));
  expect(credentialReads(h.credentialsArn)).toBe(1);
  // Each invocation starts with an empty redactor: the cache hit must have registered the secret again.
  expect(redact(`x ${h.aep.credentials.clientSecret} y`)).toBe(`x ${REDACTED} y`);
});

test('a new credentials secret ARN is read; the old one is not read again', async () => {
  const props = h.destinationAccessKeyProps(h.seedKey());
  const { PhysicalResourceId: id } = await handler(cfnEvent('Create', props));
  const movedArn = h.aws.putSecret('aep/oauth-rotated', JSON.stringify(h.aep.credentials));
  const next = { ...props, [CommonProps.CREDENTIALS_SECRET_ARN]: movedArn, [ConnectionProps.DESCRIPTION]: 'moved' };
  await handler(cfnEvent('Update', next, { physicalId: id, oldProps: props }));
  expect(credentialReads(h.credentialsArn)).toBe(1);
  expect(credentialReads(movedArn)).toBe(1);
});

test('a value rotated behind the same ARN is read again once IMS rejects the cached one', async () => {
  const good = JSON.stringify(h.aep.credentials);
  h.aws.putSecret(h.credentialsArn, JSON.stringify({ ...h.aep.credentials, clientSecret: 'WRONG-rotated-out-value-1' }));
  h.secretValues.add('WRONG-rotated-out-value-1');
  const props = h.destinationAccessKeyProps(h.seedKey());
  // Cold: the wrong value is read and IMS refuses it; a value just read is not read again.
  const err = await rejectionOf(() => handler(cfnEvent('Create', props)));
  expect(err.message).toMatch(/POST \/ims\/token\/v3 failed: HTTP 401 \[invalid_client\]/);
  expect(credentialReads(h.credentialsArn)).toBe(1);

  // Someone fixes the value in place: the cached wrong value is refused once, re-read, and the Create succeeds.
  h.aws.putSecret(h.credentialsArn, good);
  h.aws.calls.length = 0;
  const res = await handler(cfnEvent('Create', props));
  expect(h.aep.getConnection(res.PhysicalResourceId)).toBeDefined();
  expect(credentialReads(h.credentialsArn)).toBe(1);
  expect(h.aep.requests.filter((r) => r.path.startsWith('/ims/')).map((r) => r.status)).toEqual([401, 401, 200]);
});
