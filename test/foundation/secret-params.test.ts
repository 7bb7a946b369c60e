import { Lazy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AepConnection, AepSandbox } from '../../src';
import { AepIds, ConnectionProps, ResourceTypes } from '../../src/private/contract';

/**
 * Auth params AEP marks secret (`format: password` in the connection specs, or credentials by
 * nature like the STS session token) must never be inline: the Provider framework logs custom
 * resource properties and CloudFormation stores them in the template.
 */

const ROLE_ARN = 'arn:aws:iam::111122223333:role/aep-export-7Qk2x9Zr';

function connect(stack: Stack, authParams: Record<string, string>, extra: Record<string, unknown> = {}): AepConnection {
  const sandbox = new AepSandbox({ credentials: secretsmanager.Secret.fromSecretNameV2(stack, 'Creds', 'aep/oauth') });
  return new AepConnection(stack, 'Conn', {
    sandbox,
    connectionSpecId: AepIds.S3_DESTINATION_CONNECTION_SPEC,
    authSpecName: 'Assumed Role',
    authParams,
    ...extra,
  });
}

describe('secret auth params are refused inline', () => {
  test.each([
    ['s3Role', ROLE_ARN, /Assumed Role/],
    ['s3SecretKey', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', /format: password/],
    ['s3SessionToken', 'FwoGZXIvYXdzEBYaDEXAMPLETOKEN', /session token/],
    ['S3ROLE', ROLE_ARN, /Assumed Role/],
    ['password', 'hunter2hunter2', /format: password/],
    ['sshKey', '-----BEGIN OPENSSH PRIVATE KEY-----', /SSH/],
  ])('%s: error names the property, the param and the rule, never the value', (param, value, why) => {
    let message = '';
    try {
      connect(new Stack(), { [param]: value });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain(`Invalid authParams "${param}"`);
    expect(message).toMatch(why);
    expect(message).toContain('authSecret');
    expect(message).toContain(`authSecretFields: { ${param}: `);
    for (let i = 0; i + 8 <= value.length; i++) expect(message).not.toContain(value.substring(i, i + 8));
  });

  test('the same param through authSecret + authSecretFields is accepted and only the ARN is in the template', () => {
    const stack = new Stack();
    const roleSecret = new secretsmanager.Secret(stack, 'RoleSecret');
    connect(stack, {}, { authSecret: roleSecret, authSecretFields: { s3Role: 'roleArn' } });
    const text = JSON.stringify(Template.fromStack(stack).toJSON());
    expect(text).not.toContain('arn:aws:iam::111122223333:role/');
    Template.fromStack(stack).hasResourceProperties(ResourceTypes.CONNECTION, {
      [ConnectionProps.AUTH_PARAMS]: {},
      [ConnectionProps.AUTH_SECRET_FIELDS]: { s3Role: 'roleArn' },
    });
  });

  test('non-secret params stay inline (bucketName, folderPath, serviceUrl, s3AccessKey id)', () => {
    const stack = new Stack();
    expect(() => connect(stack, { bucketName: 'acme', folderPath: 'x', serviceUrl: 'https://s3.eu-west-1.amazonaws.com' })).not.toThrow();
  });

  test('a param whose name is an unresolved token cannot be judged at synth time and is skipped', () => {
    const stack = new Stack();
    const name = Lazy.string({ produce: () => 'bucketName' });
    expect(() => connect(stack, { [name]: 'acme' })).not.toThrow();
  });
});
