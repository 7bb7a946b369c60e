import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AepConnection, AepEndpoints, AepSandbox } from '../../src';
import { AepIds, ConnectionProps, CommonProps, DefaultEndpoints, HandlerEnvironment, ResourceTypes } from '../../src/private/contract';

function build(app = new App()): { stack: Stack; creds: secretsmanager.ISecret; keys: secretsmanager.ISecret } {
  const stack = new Stack(app, 'Foundation', { env: { account: '111122223333', region: 'eu-west-1' } });
  const creds = secretsmanager.Secret.fromSecretNameV2(stack, 'Creds', 'aep/oauth');
  const keys = new secretsmanager.Secret(stack, 'Keys');
  const sandbox = new AepSandbox({ credentials: creds, sandboxName: 'dev-1' });
  new AepConnection(stack, 'One', {
    sandbox,
    connectionSpecId: AepIds.S3_DESTINATION_CONNECTION_SPEC,
    authSpecName: 'Access Key',
    authSecret: keys,
    authSecretFields: { s3AccessKey: 'accessKeyId', s3SecretKey: 'secretAccessKey' },
    changeToken: 'serial-1',
  });
  new AepConnection(stack, 'Two', {
    sandbox,
    connectionSpecId: AepIds.S3_SOURCE_CONNECTION_SPEC,
    authSpecName: 'IAMRole Based',
    authParams: { bucketName: 'acme-inbound' },
    removalPolicy: RemovalPolicy.RETAIN,
  });
  return { stack, creds, keys };
}

describe('AepConnection + per-stack provider', () => {
  test('two connections share one onEvent handler', () => {
    const { stack } = build();
    const template = Template.fromStack(stack);
    const handlers = template.findResources('AWS::Lambda::Function', {
      Properties: { Handler: 'index.handler', Runtime: 'nodejs22.x' },
    });
    expect(Object.keys(handlers)).toHaveLength(1);
    template.resourceCountIs(ResourceTypes.CONNECTION, 2);
    template.resourceCountIs('AWS::Logs::LogGroup', 2);
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  test('the handler\'s environment lists every endpoint pair of the stack\'s sandboxes, once each, in a fixed order', () => {
    const envOf = (order: string[]) => {
      const stack = new Stack(new App(), 'Endpoints', { env: { account: '111122223333', region: 'eu-west-1' } });
      const creds = secretsmanager.Secret.fromSecretNameV2(stack, 'Creds', 'aep/oauth');
      const sandboxes: Record<string, AepSandbox> = {
        prod: new AepSandbox({ credentials: creds }),
        prodAgain: new AepSandbox({ credentials: creds, sandboxName: 'dev' }),
        stage: new AepSandbox({ credentials: creds, endpoints: AepEndpoints.stage() }),
        proxy: new AepSandbox({
          credentials: creds,
          endpoints: AepEndpoints.custom({ flowServiceUrl: 'https://aep-proxy.example.com/flowservice/', imsUrl: 'https://aep-proxy.example.com/ims' }),
        }),
      };
      order.forEach((name, i) => new AepConnection(stack, `C${i}`, {
        sandbox: sandboxes[name], connectionSpecId: AepIds.S3_SOURCE_CONNECTION_SPEC, authSpecName: 'IAMRole Based', authParams: { bucketName: 'b' },
      }));
      const fns = Template.fromStack(stack).findResources('AWS::Lambda::Function', { Properties: { Handler: 'index.handler' } });
      return Object.values<any>(fns)[0].Properties.Environment.Variables[HandlerEnvironment.ALLOWED_ENDPOINTS];
    };
    // Adobe's production and stage pairs are always there (a move between them must roll back).
    const adobe = [
      [DefaultEndpoints.FLOW_SERVICE_STAGE_URL, DefaultEndpoints.IMS_STAGE_URL],
      [DefaultEndpoints.FLOW_SERVICE_URL, DefaultEndpoints.IMS_URL],
    ];
    const env = envOf(['prod', 'proxy', 'prodAgain', 'stage']);
    expect(JSON.parse(env)).toEqual([['https://aep-proxy.example.com/flowservice', 'https://aep-proxy.example.com/ims'], ...adobe]);
    // Independent of construct order: same stack, same template.
    expect(envOf(['stage', 'prodAgain', 'proxy', 'prod'])).toEqual(env);
    // A custom endpoint the stack never uses is not allowed.
    expect(JSON.parse(envOf(['prod']))).toEqual(adobe);
  });

  test('custom resource properties follow the contract and carry a service timeout', () => {
    const { stack } = build();
    const template = Template.fromStack(stack);
    template.hasResourceProperties(ResourceTypes.CONNECTION, {
      ServiceTimeout: '600',
      [CommonProps.SANDBOX_NAME]: 'dev-1',
      [CommonProps.FLOW_SERVICE_URL]: 'https://platform.adobe.io/data/foundation/flowservice',
      [CommonProps.IMS_URL]: 'https://ims-na1.adobelogin.com',
      [ConnectionProps.AUTH_SPEC_NAME]: 'Access Key',
      [ConnectionProps.CHANGE_TOKEN]: 'serial-1',
      [ConnectionProps.REMOVAL_POLICY]: 'delete',
      [ConnectionProps.NAME]: Match.stringLikeRegexp('^cdk-Foundation-One-'),
    });
    template.hasResourceProperties(ResourceTypes.CONNECTION, {
      [ConnectionProps.AUTH_PARAMS]: { bucketName: 'acme-inbound' },
      [ConnectionProps.REMOVAL_POLICY]: 'retain',
    });
  });

  test('the handler role reads exactly the secrets it was given, and the CRs wait for that grant', () => {
    const { stack } = build();
    const template = Template.fromStack(stack);
    const policies = template.findResources('AWS::IAM::Policy');
    const secretStatements = Object.values(policies)
      .flatMap((p: any) => p.Properties.PolicyDocument.Statement)
      .filter((s: any) => [s.Action].flat().some((a: string) => a.startsWith('secretsmanager:')));
    const resources = secretStatements.flatMap((s: any) => [s.Resource].flat());
    // The credential appears in the policy of each set of secrets that includes it.
    const asText = [...new Set(resources.map((r) => JSON.stringify(r)))].sort();
    expect(asText).toHaveLength(2);
    expect(asText.some((r) => r.includes('secret:aep/oauth-??????'))).toBe(true);
    expect(asText.some((r) => r.includes('"Ref":"Keys'))).toBe(true);
    for (const s of secretStatements) {
      // GetSecretValue only: the handler never describes a secret.
      expect([s.Action].flat().sort()).toEqual(['secretsmanager:GetSecretValue']);
    }
    // Each CR waits for the secret-read policy of its own set of secrets (not the default policy).
    const crs = template.findResources(ResourceTypes.CONNECTION);
    for (const cr of Object.values(crs) as any[]) {
      const grants = cr.DependsOn.filter((d: string) => d.includes('SecretRead'));
      expect(grants).toHaveLength(1);
      expect(policies[grants[0]]).toBeDefined();
      expect(cr.DependsOn.some((d: string) => d.includes('HandlerRoleDefaultPolicy'))).toBe(false);
    }
  });

  test('no secret value reaches the template', () => {
    const { stack } = build();
    const text = JSON.stringify(Template.fromStack(stack).toJSON());
    expect(text).not.toMatch(/AKIA[A-Z2-7]{16}/);
    expect(text).not.toMatch(/clientSecret|client_secret/i);
  });

  test('synthesis is deterministic', () => {
    const a = JSON.stringify(Template.fromStack(build().stack).toJSON());
    const b = JSON.stringify(Template.fromStack(build().stack).toJSON());
    expect(a).toEqual(b);
  });

  test('custom endpoints are validated and emitted', () => {
    expect(() => AepEndpoints.custom({ flowServiceUrl: 'http://platform.example.com/x', imsUrl: 'https://ims' }))
      .toThrow(/Invalid endpoints.flowServiceUrl "http:\/\/platform.example.com\/x": must use https/);
    const ep = AepEndpoints.custom({ flowServiceUrl: 'http://127.0.0.1:4010/data/foundation/flowservice/', imsUrl: 'http://127.0.0.1:4010' });
    expect(ep.flowServiceUrl).toBe('http://127.0.0.1:4010/data/foundation/flowservice');
    expect(AepEndpoints.stage().flowServiceUrl).toContain('platform-stage.adobe.io');
  });

  test.each([
    ['sandboxName', () => new AepSandbox({ credentials: fakeSecret(), sandboxName: 'Prod' }), /Invalid sandboxName "Prod": must be a lowercase/],
    ['connectionSpecId', () => connection({ connectionSpecId: 'not-a-uuid' }), /Invalid connectionSpecId "not-a-uuid"/],
    ['connectionName', () => connection({ connectionName: '   ' }), /Invalid connectionName "   ": must not be empty/],
    ['connectionName', () => connection({ connectionName: 'x'.repeat(257) }), /Invalid connectionName .*at most 256/],
    ['authSecretFields', () => connection({ authSecretFields: { s3SecretKey: 'k' } }), /Invalid authSecretFields .*needs authSecret/],
  ])('rejects a bad %s with property, value and rule', (_prop, fn, message) => {
    expect(fn).toThrow(message);
  });
});

function fakeSecret(): secretsmanager.ISecret {
  const stack = new Stack();
  return secretsmanager.Secret.fromSecretNameV2(stack, 'S', 'x');
}

function connection(overrides: Record<string, unknown>): AepConnection {
  const stack = new Stack();
  const sandbox = new AepSandbox({ credentials: secretsmanager.Secret.fromSecretNameV2(stack, 'C', 'c') });
  return new AepConnection(stack, 'C1', {
    sandbox,
    connectionSpecId: AepIds.S3_DESTINATION_CONNECTION_SPEC,
    authSpecName: 'Access Key',
    ...overrides,
  } as any);
}
