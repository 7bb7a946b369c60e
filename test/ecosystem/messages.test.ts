import { App, Duration, Stack, Token } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AepS3Destination, AepS3Source, AepSandbox, ExportFileType, ExportType, FileEncryption, S3DestinationAuth, S3SourceAuth } from '../../src';
import { ACCOUNT, REGION, newSandbox } from '../destination/util';

/** Error messages a user meets in the first minutes, exactly as they read. */

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected an error, nothing was thrown');
}

/** How a construct's error ends: the path of the construct, as aws-cdk-lib's ValidationError shows it. */
const atPath = (id: string) => `\n    at path [Messages/${id}]`;

const newStack = (env: { account?: string; region?: string } = { account: ACCOUNT, region: REGION }) =>
  new Stack(new App(), 'Messages', { env });

describe('FileEncryption.pgp', () => {
  test('a value that is not base64 reads as one sentence', () => {
    expect(errorOf(() => FileEncryption.pgp('not-base64'))).toBe(
      'Invalid encryption.publicKey "not-base64": must be base64 of an ASCII-armored OpenPGP RSA public key block; this value is not valid base64',
    );
  });

  test('base64 of an armored block with a broken body names the body', () => {
    const armored = '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n!!!!\n-----END PGP PUBLIC KEY BLOCK-----\n';
    expect(errorOf(() => FileEncryption.pgp(Buffer.from(armored).toString('base64'))))
      .toMatch(/; this value has a body line that is not base64: "!!!!"$/);
  });
});

describe('session duration bounds are stated once, as they really are', () => {
  const rule = 'must be a whole number of seconds from 1800 (30 minutes) to 129600 (36 hours): '
    + 'STS caps a session at 36 hours, and two refreshes, at most one per 15 minutes, must fit into one lifetime';
  test.each([899, 900, 1799, 129_601, 1800.5])('%d seconds', (seconds) => {
    expect(errorOf(() => S3SourceAuth.accessKey({ sessionToken: { duration: Duration.millis(seconds * 1000) } })))
      .toBe(`Invalid auth.sessionToken.duration "${seconds} seconds": ${rule}`);
  });

  test.each([1800, 129_600])('%d seconds is accepted', (seconds) => {
    expect(S3SourceAuth.accessKey({ sessionToken: { duration: Duration.seconds(seconds) } }).sessionTokenDuration!.toSeconds()).toBe(seconds);
  });
});

describe('unsupported folder macros are named, with the supported ones', () => {
  test.each([
    ['aep/%DESTINATION%', '%DESTINATION%'],
    ['aep/%DATETIME(YYYYMMdd)%', '%DATETIME(YYYYMMdd)%'],
    ['aep/%SEGMENT_NAME%/%ORGANIZATION_NAME%', '%ORGANIZATION_NAME%'],
  ])('%s', (folderPath, macro) => {
    const stack = newStack();
    expect(errorOf(() => new AepS3Destination(stack, 'D', {
      sandbox: newSandbox(stack), bucket: s3.Bucket.fromBucketName(stack, 'B', 'acme-aep-exports'), folderPath,
    }))).toBe(`Invalid folderPath ${JSON.stringify(folderPath)}: ${macro} is not a folder macro: AEP supports only `
      + '%SEGMENT_NAME%, %SEGMENT_ID% or %SEGMENT_NAME%/%SEGMENT_ID%, at the end of the path '
      + "(file-name macros such as %DESTINATION% or %DATETIME(…)% belong to the dataflow's file name template)" + atPath('D'));
  });

  test('a stray % still gets the character rule, which names the macros', () => {
    const stack = newStack();
    expect(errorOf(() => new AepS3Destination(stack, 'D', {
      sandbox: newSandbox(stack), bucket: s3.Bucket.fromBucketName(stack, 'B', 'acme-aep-exports'), folderPath: 'aep/50%',
    }))).toBe('Invalid folderPath "aep/50%": may only contain letters, digits and / ! - _ . * \' ( ), followed by an optional '
      + '%SEGMENT_NAME%, %SEGMENT_ID% or %SEGMENT_NAME%/%SEGMENT_ID%' + atPath('D'));
  });
});

describe('a bucket from Bucket.fromCfnBucket is checked on both sides', () => {
  const cfnBucket = (stack: Stack, bucketName: string) => s3.Bucket.fromCfnBucket(new s3.CfnBucket(stack, 'L1', { bucketName }));

  test.each(['Acme_Exports', 'ab', '10.0.0.1'])('%s', (name) => {
    const dest = newStack();
    const destError = errorOf(() => new AepS3Destination(dest, 'D', { sandbox: newSandbox(dest), bucket: cfnBucket(dest, name) }));
    const src = newStack();
    const srcError = errorOf(() => new AepS3Source(src, 'S', { sandbox: newSandbox(src), bucket: cfnBucket(src, name) }));
    expect(destError).toMatch(new RegExp(`^Invalid bucket "${name.replace(/\./g, '\\.')}": `));
    expect(srcError).toMatch(new RegExp(`^Invalid bucket "${name.replace(/\./g, '\\.')}": `));
  });

  test('a valid literal name synthesizes on both sides', () => {
    const stack = newStack();
    const sandbox = newSandbox(stack);
    new AepS3Destination(stack, 'D', { sandbox, bucket: cfnBucket(stack, 'acme-aep-exchange') });
    const secret = Template.fromStack(stack).findResources('AWS::SecretsManager::Secret');
    // The literal name reaches the key's description, as on the source side.
    expect(JSON.stringify(secret)).toContain('s3://acme-aep-exchange/aep/');
  });
});

describe('no message shows a token encoding', () => {
  test.each<[string, () => unknown]>([
    ['duration', () => S3SourceAuth.accessKey({ sessionToken: { duration: Duration.seconds(Token.asNumber({ Ref: 'D' })) } })],
    ['a fileType from a parameter where none applies', () => {
      const stack = newStack();
      return new AepS3Destination(stack, 'D', {
        sandbox: newSandbox(stack),
        bucket: s3.Bucket.fromBucketName(stack, 'B', 'acme-aep-exports'),
        exportType: ExportType.DATASETS,
        fileType: Token.asString({ Ref: 'FileType' }) as ExportFileType,
      });
    }],
  ])('%s', (_name, fn) => {
    const message = errorOf(fn);
    expect(message).not.toMatch(/Token\[|e\+289/);
    expect(message).toContain('<deploy-time value>');
  });
});

describe('AepSandbox credentials in another region or account', () => {
  const arnIn = (region: string, account: string) => `arn:aws:secretsmanager:${region}:${account}:secret:aep/credentials-AbCdEf`;

  test('another region fails at synth and says what to do', () => {
    const stack = newStack();
    const sandbox = new AepSandbox({ credentials: secretsmanager.Secret.fromSecretCompleteArn(stack, 'C', arnIn('us-east-1', ACCOUNT)) });
    expect(errorOf(() => new AepS3Destination(stack, 'D', { sandbox, bucket: s3.Bucket.fromBucketName(stack, 'B', 'acme-aep-exports') })))
      .toBe(`Invalid credentials "${arnIn('us-east-1', ACCOUNT)}": is a secret in region us-east-1, but stack Messages deploys to `
        + `${REGION} and its handler reads secrets in its own region: replicate the secret to ${REGION} (Secrets Manager replica `
        + "regions) and pass the replica's ARN, or deploy the stack to the secret's region" + atPath('D'));
    const source = newStack();
    const sourceSandbox = new AepSandbox({ credentials: secretsmanager.Secret.fromSecretCompleteArn(source, 'C', arnIn('us-east-1', ACCOUNT)) });
    expect(errorOf(() => new AepS3Source(source, 'S', { sandbox: sourceSandbox, bucket: s3.Bucket.fromBucketName(source, 'B', 'acme-aep-inbound') })))
      .toMatch(/^Invalid credentials ".*": is a secret in region us-east-1, but stack Messages deploys to eu-west-1/);
  });

  test.each([false, true])('another account fails at synth and says what to do (imported with its key: %s)', (withKey) => {
    const stack = newStack();
    const credentials = withKey
      ? secretsmanager.Secret.fromSecretAttributes(stack, 'C', {
        secretCompleteArn: arnIn(REGION, '444455556666'),
        encryptionKey: kms.Key.fromKeyArn(stack, 'K', `arn:aws:kms:${REGION}:444455556666:key/0b6c1a55-5f1e-4c1c-9a51-2b8f0f3a7d11`),
      })
      : secretsmanager.Secret.fromSecretCompleteArn(stack, 'C', arnIn(REGION, '444455556666'));
    expect(errorOf(() => new AepS3Source(stack, 'S', { sandbox: new AepSandbox({ credentials }), bucket: s3.Bucket.fromBucketName(stack, 'B', 'acme-aep-inbound') })))
      .toBe(`Invalid credentials "${arnIn(REGION, '444455556666')}": is a secret in account 444455556666, but stack Messages deploys `
        + `to account ${ACCOUNT} and its handler reads secrets of its own account: store the AEP credential in a secret of account `
        + `${ACCOUNT} (region ${REGION}) and pass that${atPath('S')}`);
  });

  test('an accessKeyFromSecret secret in another region or account fails at synth, like the sandbox credential', () => {
    const key = (region: string, account: string) => `arn:aws:secretsmanager:${region}:${account}:secret:team/aep-key-AbCdEf`;
    const destination = (arn: string) => {
      const stack = newStack();
      return errorOf(() => new AepS3Destination(stack, 'D', {
        sandbox: newSandbox(stack),
        bucket: s3.Bucket.fromBucketName(stack, 'B', 'acme-aep-exports'),
        auth: S3DestinationAuth.accessKeyFromSecret(secretsmanager.Secret.fromSecretCompleteArn(stack, 'K', arn)),
      }));
    };
    expect(destination(key('us-east-1', ACCOUNT)))
      .toBe(`Invalid auth (S3DestinationAuth.accessKeyFromSecret secret) "${key('us-east-1', ACCOUNT)}": is a secret in region us-east-1, `
        + `but stack Messages deploys to ${REGION} and its handler reads secrets in its own region: replicate the secret to ${REGION} `
        + "(Secrets Manager replica regions) and pass the replica's ARN, or deploy the stack to the secret's region" + atPath('D'));
    expect(destination(key(REGION, '444455556666')))
      .toBe(`Invalid auth (S3DestinationAuth.accessKeyFromSecret secret) "${key(REGION, '444455556666')}": is a secret in account 444455556666, `
        + `but stack Messages deploys to account ${ACCOUNT} and its handler reads secrets of its own account: store the access key `
        + `in a secret of account ${ACCOUNT} (region ${REGION}) and pass that${atPath('D')}`);
  });

  test('same region and account, or an environment-agnostic stack, synthesizes', () => {
    for (const env of [{ account: ACCOUNT, region: REGION }, {}]) {
      const stack = newStack(env);
      const credentials = secretsmanager.Secret.fromSecretCompleteArn(stack, 'C', arnIn(REGION, ACCOUNT));
      new AepS3Destination(stack, 'D', { sandbox: new AepSandbox({ credentials }), bucket: s3.Bucket.fromBucketName(stack, 'B', 'acme-aep-exports') });
      expect(Template.fromStack(stack).findResources('Custom::AepDestinationConnection')).not.toEqual({});
    }
  });
});
