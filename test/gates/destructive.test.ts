import { App } from 'aws-cdk-lib';
import { type CfnTemplate, describe as describeChange, destructiveChanges, type DestructiveChange, judge } from './destructive';
import { type FocusedInputs, focusedDestinationStack, focusedSourceStack, templateOf } from './stacks';

const source = (inputs: FocusedInputs = {}): CfnTemplate => templateOf(focusedSourceStack(new App(), inputs));
const destination = (inputs: FocusedInputs = {}): CfnTemplate => templateOf(focusedDestinationStack(new App(), inputs));

/** `logicalId type change` per change, for compact expectations. */
const summary = (changes: readonly DestructiveChange[]) => changes.map((c) => `${c.type} ${c.change}`).sort();
const idOf = (t: CfnTemplate, type: string) => Object.entries(t.Resources!).filter(([, r]) => r.Type === type).map(([id]) => id);

const baseSource = source();
/** The auth-mode change, synthesized once for the two places that compare it (each gets its own copy). */
let iamRoleText: string | undefined;
const iamRoleSource = (): CfnTemplate => JSON.parse(iamRoleText ??= JSON.stringify(source({ sourceAuth: 'iamRole' })));
const baseDestination = destination();

describe('patch-only changes pass', () => {
  test('a folder change and a description change patch in place', () => {
    expect(destructiveChanges('GateSource', baseSource, source({ description: 'CRM, v2' }))).toEqual([]);
    expect(destructiveChanges('GateDestination', baseDestination, destination({ folderPath: 'aep/v2', description: 'v2' }))).toEqual([]);
  });

  test('an identical synth passes', () => {
    expect(destructiveChanges('GateSource', baseSource, source())).toEqual([]);
  });

  test("the provider's own role is not something a connection depends on", () => {
    const after = JSON.parse(JSON.stringify(baseSource)) as CfnTemplate;
    const [role] = idOf(after, 'AWS::IAM::Role').filter((id) => id.startsWith('CdkAepS3ProviderHandlerRole'));
    expect(role).toBeDefined();
    (after.Resources![role].Properties as Record<string, unknown>).RoleName = 'renamed-provider-role';
    expect(destructiveChanges('GateSource', baseSource, after)).toEqual([]);
  });
});

describe('replacements and deletions fail, naming the resource and the reason', () => {
  test('an auth mode change replaces the connection, and with it its source connection and dataflow; the IAM user and key go', () => {
    const changes = destructiveChanges('GateSource', baseSource, iamRoleSource());
    expect(summary(changes)).toEqual([
      'AWS::IAM::AccessKey delete', 'AWS::IAM::User delete',
      'Custom::AepConnection replace', 'Custom::AepFlow replace', 'Custom::AepSourceConnection replace',
    ]);
    const connection = changes.find((c) => c.type === 'Custom::AepConnection')!;
    const text = describeChange(connection);
    expect(text).toContain(`GateSource/${connection.logicalId} (Custom::AepConnection) would be REPLACED`);
    expect(text).toMatch(/AuthSpecName "Access Key" → "[^"]+": AEP cannot change the auth type/);
    const flow = changes.find((c) => c.type === 'Custom::AepFlow')!;
    expect(flow.reasons.join()).toMatch(/SourceConnectionId refers to \w+, which is replaced or deleted/);
  });

  test("a source folder change moves its dataflow's path: AEP fixes that at creation, so the source connection and the flow are replaced", () => {
    const changes = destructiveChanges('GateSource', baseSource, source({ folderPath: 'exports/crm-v2' }));
    expect(summary(changes)).toEqual(['Custom::AepFlow replace', 'Custom::AepSourceConnection replace']);
    expect(changes.find((c) => c.type === 'Custom::AepSourceConnection')!.reasons[0])
      .toMatch(/^Params .*exports\/crm\/\*\.csv.* → .*exports\/crm-v2\/\*\.csv.*: AEP fixes a source connection's params/);
  });

  test('a sandbox change replaces every AEP object', () => {
    const changes = destructiveChanges('GateDestination', baseDestination, destination({ sandboxName: 'dev' }));
    expect(summary(changes)).toEqual(['Custom::AepDestinationConnection replace', 'Custom::AepFlow replace', 'Custom::AepSourceConnection replace']);
    for (const c of changes) expect(c.reasons.join()).toContain('AepSandboxName "prod" → "dev"');
  });

  test('renaming a construct deletes what was under the old logical ids', () => {
    const changes = destructiveChanges('GateSource', baseSource, source({ sourceId: 'CrmIngestV2' }));
    expect(summary(changes)).toEqual([
      'AWS::IAM::AccessKey delete', 'AWS::IAM::User delete',
      'Custom::AepConnection delete', 'Custom::AepDatasetTargetConnection delete', 'Custom::AepFlow delete', 'Custom::AepSourceConnection delete',
    ]);
    expect(describeChange(changes.find((c) => c.type === 'Custom::AepConnection')!)).toMatch(/DELETED: logical id CrmIngest\w+ is gone from the template/);
  });

  test('removing a destination deletes its connection, dataflow and IAM user', () => {
    expect(summary(destructiveChanges('GateDestination', baseDestination, destination({ withoutDestination: true })))).toEqual([
      'AWS::IAM::AccessKey delete', 'AWS::IAM::User delete',
      'Custom::AepDestinationConnection delete', 'Custom::AepFlow delete', 'Custom::AepSourceConnection delete',
    ]);
  });

  test('a key rotation (serial bump) replaces the access key the connection holds, and only that', () => {
    const changes = destructiveChanges('GateDestination', baseDestination, destination({ keySerial: 2 }));
    expect(summary(changes)).toEqual(['AWS::IAM::AccessKey replace']);
    expect(changes[0].reasons[0]).toMatch(/^Serial 1 → 2: the key serial changed/);
  });

  test('a library upgrade that merges a resource pair deletes the old pair (template of an earlier version)', () => {
    // Before the merged destination resource: a base connection and a target connection.
    const [merged] = idOf(baseDestination, 'Custom::AepDestinationConnection');
    const before = JSON.parse(JSON.stringify(baseDestination)) as { Resources: Record<string, any> };
    const pair = before.Resources[merged];
    delete before.Resources[merged];
    before.Resources.AudienceExportsConnectionBase0000 = { ...pair, Type: 'Custom::AepConnection' };
    before.Resources.AudienceExportsTarget0000 = {
      Type: 'Custom::AepTargetConnection',
      Properties: { ...pair.Properties, BaseConnectionId: { 'Fn::GetAtt': ['AudienceExportsConnectionBase0000', 'ConnectionId'] } },
    };
    const changes = destructiveChanges('GateDestination', before, baseDestination);
    expect(changes.map((c) => `${c.logicalId} ${c.change}`)).toEqual(['AudienceExportsConnectionBase0000 delete', 'AudienceExportsTarget0000 delete']);
  });
});

describe('acknowledgements', () => {
  const changes = destructiveChanges('GateSource', baseSource, iamRoleSource());

  test('every change acknowledged passes; an unrelated acknowledgement is only noted', () => {
    const acks = changes.map((c) => ({ stack: c.stack, logicalId: c.logicalId, change: c.change, why: 'moving to AEP on AWS' }));
    const unrelated = { stack: 'GateSource', logicalId: 'Elsewhere', change: 'delete' as const, why: 'old' };
    const verdict = judge(changes, [...acks, unrelated]);
    expect(verdict.unacknowledged).toEqual([]);
    expect(verdict.acknowledged).toHaveLength(changes.length);
    expect(verdict.unused).toEqual([unrelated]);
  });

  test('an acknowledgement covers one resource and one kind of change only', () => {
    const connection = changes.find((c) => c.type === 'Custom::AepConnection')!;
    const verdict = judge(changes, [
      { stack: 'GateSource', logicalId: connection.logicalId, change: 'replace', why: 'auth mode change' },
      { stack: 'GateSource', logicalId: changes.find((c) => c.type === 'AWS::IAM::User')!.logicalId, change: 'replace', why: 'wrong kind' },
      { stack: 'OtherStack', logicalId: changes.find((c) => c.type === 'Custom::AepFlow')!.logicalId, change: 'replace', why: 'wrong stack' },
    ]);
    expect(verdict.unacknowledged.map((c) => c.type).sort()).toEqual(['AWS::IAM::AccessKey', 'AWS::IAM::User', 'Custom::AepFlow', 'Custom::AepSourceConnection']);
  });

  test('an acknowledgement must say why', () => {
    expect(() => judge(changes, [{ stack: 'GateSource', logicalId: changes[0].logicalId, change: changes[0].change, why: ' ' }]))
      .toThrow(/has no 'why'/);
  });
});
