/**
 * Which `--credentials-secret` / `--sandbox` values the doctor takes for a secret's VALUE (refused,
 * never echoed) and which for a name: real names, including those CloudFormation generates, must
 * still work.
 */
import { fakeSecretAccessKey } from '../../offline-world/stand-in';
import { parseDoctorArgs, secretValueShape, UsageError } from '../../src/cli/args';

describe('secretValueShape', () => {
  test.each([
    ['{"clientId":"abc"}', 'JSON'],
    ['clientSecret=abc', 'text naming clientSecret'],
    ['p8e-Xq3vT9kLm2Rb7Yc4Nw8Hd1Fs6Gj5Pz0A', 'an Adobe client secret (p8e-…)'],
    // Never issued by AWS: the stand-ins' generator of correctly shaped keys.
    [fakeSecretAccessKey('doctor-args'), 'an AWS secret access key'],
    ['a'.repeat(20) + '1234567890' + 'B'.repeat(12), 'a random-looking token'],
    ['has spaces in it', 'text with characters no secret name has'],
  ])('%s looks like %s', (value, shape) => {
    expect(secretValueShape(value)).toBe(shape);
  });

  test.each([
    'aep/oauth-server-to-server',
    'AepCredentials3F0A2B1C-Xy7AbcDEf1gh',
    'prod/aep/credentials2024ProductionAccount',
    'AepApiCredentialSecretA1B2C3D4',
    'arn:aws:secretsmanager:eu-west-1:111122223333:secret:aep/oauth-AbCdEf',
  ])('%s is a name', (value) => {
    expect(secretValueShape(value)).toBeUndefined();
  });
});

describe('a secret pasted into --sandbox', () => {
  test('is refused without being echoed', () => {
    const secret = 'p8e-Xq3vT9kLm2Rb7Yc4Nw8Hd1Fs6Gj5Pz0A';
    let err: unknown;
    try {
      parseDoctorArgs(['--sandbox', secret]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    const message = (err as Error).message;
    expect(message).toContain('--sandbox (not shown: it looks like a secret value) is not an AEP sandbox name');
    for (let i = 0; i + 8 <= secret.length; i++) expect(message).not.toContain(secret.substring(i, i + 8));
  });

  test('an ordinary wrong sandbox name is still shown', () => {
    expect(() => parseDoctorArgs(['--sandbox', 'Prod'])).toThrow("--sandbox 'Prod' is not an AEP sandbox name");
  });
});
