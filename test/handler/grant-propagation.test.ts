import { cfnEvent, rejectionOf, useHarness } from './harness';
import { handler } from '../../src/handler/aep.lambda';
import { LAMBDA_SAFETY_MARGIN_MS } from '../../src/plumbing/config';
import { CommonProps } from '../../src/private/contract';

/**
 * IAM puts the policy CloudFormation just created for a custom resource in force only seconds
 * after it is CREATE_COMPLETE: the handler reads a secret again while GetSecretValue is
 * AccessDenied, for the propagation window (AWS_GRANT_PROPAGATION_MS) and never past the
 * invocation's deadline; any other refusal is final at once.
 */

const h = useHarness();

const secretReads = () => h.aws.calls.filter((c) => c.service === 'secretsmanager' && c.action === 'GetSecretValue');

/** Denies GetSecretValue until `afterFirstReadMs` after the first one (Infinity: always), allows everything else. */
function grantInForceAfter(afterFirstReadMs: number) {
  let firstRead: number | undefined;
  h.aws.setAuthorizer((r) => {
    if (r.action !== 'secretsmanager:GetSecretValue') return 'allowed';
    firstRead ??= Date.now();
    return Date.now() < firstRead + afterFirstReadMs ? 'denied' : 'allowed';
  });
}

function withEnv(values: Record<string, string>): () => void {
  const saved = Object.fromEntries(Object.keys(values).map((k) => [k, process.env[k]]));
  Object.assign(process.env, values);
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]; else process.env[k] = v;
    }
  };
}

afterEach(() => h.aws.setAuthorizer(undefined));

test('a grant in force 150 ms after the first read: the Create reads again and succeeds', async () => {
  const restore = withEnv({ AWS_GRANT_PROPAGATION_MS: '3000', AWS_GRANT_RETRY_BASE_MS: '10' });
  try {
    grantInForceAfter(150);
    const props = h.destinationAccessKeyProps(h.seedKey());
    const response = await handler(cfnEvent('Create', props, { logicalId: 'Fresh' }));
    expect(response.PhysicalResourceId).toBeTruthy();
    const codes = secretReads().map((c) => c.errorCode ?? 'ok');
    expect(codes[0]).toBe('AccessDeniedException');
    expect(codes).toContain('ok');
    expect(h.output.some((l) => l.includes('retrying') && l.includes('GetSecretValue'))).toBe(true);
  } finally {
    restore();
  }
});

test('a grant that never comes: gives up after the propagation window, naming the refusal', async () => {
  const restore = withEnv({ AWS_GRANT_PROPAGATION_MS: '300', AWS_GRANT_RETRY_BASE_MS: '10' });
  try {
    grantInForceAfter(Number.POSITIVE_INFINITY);
    const started = Date.now();
    const err = await rejectionOf(() => handler(cfnEvent('Create', h.destinationAccessKeyProps(h.seedKey()))));
    expect(err.message).toMatch(/is not authorized to perform: secretsmanager:GetSecretValue .*\(gave up after \d+ attempts\)/);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(secretReads().length).toBeGreaterThan(1);
    expect(h.aep.connections()).toEqual([]);
  } finally {
    restore();
  }
});

test('the window never outlasts the Lambda deadline', async () => {
  const restore = withEnv({ AWS_GRANT_PROPAGATION_MS: '60000', AWS_GRANT_RETRY_BASE_MS: '10' });
  try {
    grantInForceAfter(Number.POSITIVE_INFINITY);
    const deadline = Date.now() + LAMBDA_SAFETY_MARGIN_MS + 400;
    const started = Date.now();
    const err = await rejectionOf(() => handler(cfnEvent('Create', h.destinationAccessKeyProps(h.seedKey())), {
      getRemainingTimeInMillis: () => deadline - Date.now(),
    }));
    expect(err.message).toContain('is not authorized to perform: secretsmanager:GetSecretValue');
    // Gave up by the invocation's deadline (remaining time minus the safety margin), not after a minute.
    expect(Date.now() - started).toBeLessThan(1_500);
  } finally {
    restore();
  }
});

test('a secret that does not exist is not read again', async () => {
  const restore = withEnv({ AWS_GRANT_PROPAGATION_MS: '3000', AWS_GRANT_RETRY_BASE_MS: '10' });
  try {
    const props = h.destinationAccessKeyProps(h.seedKey(), { [CommonProps.CREDENTIALS_SECRET_ARN]: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-Ab12Cd' });
    await rejectionOf(() => handler(cfnEvent('Create', props)));
    expect(secretReads().length).toBe(1);
  } finally {
    restore();
  }
});
