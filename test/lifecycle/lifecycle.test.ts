import * as fs from 'fs';
import * as path from 'path';
import { LifecycleReport, runExampleLifecycle } from '../../offline-world/cloudformation/example-lifecycle';
import type { PropertyUsage } from '../../offline-world/cloudformation/simulator';
import { AepStandIn } from '../../offline-world/stand-in/aep';
import { AwsStandIn } from '../../offline-world/stand-in/aws';
import {
  CommonProps, ConnectionProps, DataflowConnectionProps, DataflowResourceTypes, FlowProps, IamRoleLookupProps, MappingSetProps, ProfileMappingProps,
  RefreshEventKeys, ResourceTypes, DestinationConnectionProps,
} from '../../src/private/contract';

/**
 * The examples/ app, synthesized and replayed through the BUNDLED handler (the code that ships),
 * against both stand-ins: the construct↔handler contract, the final state and the secret scan.
 */
/** Properties CloudFormation itself defines on every custom resource. */
const CFN_OWN = ['ServiceToken', 'ServiceTimeout'];

let aep: AepStandIn;
let aws: AwsStandIn;
let report: LifecycleReport;
let workDir: string;

beforeAll(async () => {
  aep = await AepStandIn.start();
  aws = await AwsStandIn.start();
  // Inside the repo (git-ignored) so the bundle resolves @aws-sdk/* from node_modules, as the
  // Lambda runtime would provide it.
  const base = path.resolve(__dirname, '../../.demo');
  fs.mkdirSync(base, { recursive: true });
  workDir = fs.mkdtempSync(path.join(base, 'lifecycle-test-'));
  report = await runExampleLifecycle({ aep, aws, workDir });
}, 120_000);

afterAll(async () => {
  await Promise.all([aep?.close(), aws?.close()]);
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
});

describe('example app lifecycle through the bundled handler', () => {
  test('every event succeeds and nothing is left in AEP', () => {
    expect(report.invocations.filter((i) => i.error)).toEqual([]);
    expect(report.connectionsAfterCreate).toBe(5);
    // Three S3 destinations and the Data Lake target of the example's ingestion dataflow.
    expect(report.targetConnectionsAfterCreate).toBe(4);
    expect(report.connectionIdsStableAcrossUpdate).toBe(true);
    expect(report.refreshRuns).toBe(1);
    expect(report.finalConnections).toBe(0);
    expect(report.finalTargetConnections).toBe(0);
    expect(report.validationFailures).toEqual([]);
    // Cleanup failures do not fail a CloudFormation update; they must not happen silently either.
    expect(report.leftBehind).toEqual([]);
  });

  test('the update rotates the destination key in place (Update, not Create)', () => {
    const updates = report.invocations.filter((i) => i.phase === 'update');
    expect(updates.map((i) => i.requestType)).not.toContain('Create');
    expect(updates.some((i) => i.resourceType === ResourceTypes.DESTINATION_CONNECTION && i.requestType === 'Update')).toBe(true);
  });

  test('each destination is one custom resource carrying base and target connection', () => {
    const templates = report.templates.map((t) => JSON.parse(t));
    const types = Object.values<any>(templates[0].Resources).map((r) => r.Type);
    expect(types.filter((t) => t === ResourceTypes.DESTINATION_CONNECTION)).toHaveLength(3); // audience, encrypted and dataset exports
    expect(types).not.toContain(ResourceTypes.TARGET_CONNECTION);
  });
});

/** Emitted properties the handler never read (a construct-side rename or a dead property). */
function unreadEmitted(usage: PropertyUsage, type: string): string[] {
  const read = usage.read.get(type) ?? new Set<string>();
  return [...(usage.emitted.get(type) ?? [])].filter((k) => !CFN_OWN.includes(k) && !read.has(k));
}

/** Properties the handler read that no construct emitted (a handler-side rename). */
function unemittedReads(usage: PropertyUsage, type: string): string[] {
  const emitted = usage.emitted.get(type) ?? new Set<string>();
  return [...(usage.read.get(type) ?? [])].filter((k) => /^[A-Z]/.test(k) && !emitted.has(k));
}

describe('construct ↔ handler contract', () => {
  const contractNames: Record<string, string[]> = {
    [ResourceTypes.CONNECTION]: [...Object.values(CommonProps), ...Object.values(ConnectionProps)],
    [ResourceTypes.DESTINATION_CONNECTION]: [...Object.values(CommonProps), ...Object.values(DestinationConnectionProps)],
    [ResourceTypes.IAM_ROLE_LOOKUP]: [...Object.values(CommonProps), ...Object.values(IamRoleLookupProps)],
    'AWS::Events::Rule': [...Object.values(CommonProps), ...Object.values(RefreshEventKeys)],
    [DataflowResourceTypes.SOURCE_CONNECTION]: [...Object.values(CommonProps), ...Object.values(DataflowConnectionProps)],
    [DataflowResourceTypes.DATASET_TARGET_CONNECTION]: [...Object.values(CommonProps), ...Object.values(DataflowConnectionProps)],
    [DataflowResourceTypes.MAPPING_SET]: [...Object.values(CommonProps), ...Object.values(MappingSetProps)],
    [DataflowResourceTypes.PROFILE_MAPPING]: [...Object.values(CommonProps), ...Object.values(ProfileMappingProps)],
    [DataflowResourceTypes.FLOW]: [...Object.values(CommonProps), ...Object.values(FlowProps)],
  };

  /**
   * Sources emit `Custom::AepConnection`, destinations `Custom::AepDestinationConnection`, whose
   * base half runs the same base-connection code. The two are checked as one family: `ChangeToken`
   * is only read by an Update (which the example runs on a destination), `Encryption` is only
   * emitted by a destination, `SessionTokenDurationSeconds` only by a source.
   */
  const FAMILY: readonly string[] = [ResourceTypes.CONNECTION, ResourceTypes.DESTINATION_CONNECTION];
  function usageOf(type: string): PropertyUsage {
    const types = FAMILY.includes(type) ? FAMILY : [type];
    const union = (m: Map<string, Set<string>>) => new Set(types.flatMap((t) => [...(m.get(t) ?? [])]));
    return { emitted: new Map([[type, union(report.usage.emitted)]]), read: new Map([[type, union(report.usage.read)]]) };
  }

  test.each(Object.keys(contractNames))('%s: every emitted property is read by the handler', (type) => {
    expect([...(report.usage.emitted.get(type) ?? [])].length).toBeGreaterThan(0);
    expect(unreadEmitted(usageOf(type), type)).toEqual([]);
  });

  test.each(Object.keys(contractNames))('%s: every property the handler reads is emitted by a construct', (type) => {
    expect(unemittedReads(usageOf(type), type)).toEqual([]);
  });

  test.each(Object.keys(contractNames))('%s: every emitted property is named in the contract module', (type) => {
    const emitted = [...(report.usage.emitted.get(type) ?? [])].filter((k) => !CFN_OWN.includes(k));
    expect(emitted.filter((k) => !contractNames[type].includes(k))).toEqual([]);
  });

  test('a rename on either side is caught', () => {
    const type = ResourceTypes.CONNECTION;
    const family = usageOf(type);
    const renamed = (set: Set<string> | undefined, from: string, to: string) =>
      new Set([...(set ?? [])].map((k) => (k === from ? to : k)));
    // The constructs emit `ChangeTokn` instead of `ChangeToken`: emitted but never read...
    const constructSide: PropertyUsage = {
      emitted: new Map([[type, renamed(family.emitted.get(type), ConnectionProps.CHANGE_TOKEN, 'ChangeTokn')]]),
      read: family.read,
    };
    expect(unreadEmitted(constructSide, type)).toEqual(['ChangeTokn']);
    expect(unemittedReads(constructSide, type)).toEqual([ConnectionProps.CHANGE_TOKEN]);
    // ...and the handler reading `Descripton`: read but never emitted.
    const handlerSide: PropertyUsage = {
      emitted: family.emitted,
      read: new Map([[type, renamed(family.read.get(type), ConnectionProps.DESCRIPTION, 'Descripton')]]),
    };
    expect(unemittedReads(handlerSide, type)).toEqual(['Descripton']);
    expect(unreadEmitted(handlerSide, type)).toEqual([ConnectionProps.DESCRIPTION]);
  });
});

describe('secret-leak scan', () => {
  function haystacks(): Array<[string, string]> {
    const out: Array<[string, string]> = [];
    report.templates.forEach((t, i) => out.push([`template ${i + 1}`, t]));
    for (const dir of report.assemblyDirs) {
      for (const file of walk(dir)) {
        if (/\.(json|js|txt)$/.test(file) && !file.includes(`${path.sep}asset.`)) out.push([file, fs.readFileSync(file, 'utf8')]);
      }
    }
    out.push(['handler logs', report.logs.join('\n')]);
    out.push(['custom-resource responses', JSON.stringify(report.invocations.map((i) => i.response ?? null))]);
    out.push(['errors', report.invocations.map((i) => i.error ?? '').join('\n')]);
    out.push(['stand-in request recordings', JSON.stringify(aep.requests)]);
    return out;
  }

  test('the run had recognizable secrets to look for', () => {
    // IMS client secret + 2 destination key generations + a session-token triple at least.
    expect(report.secretValues.length).toBeGreaterThanOrEqual(4);
    expect(report.secretValues).toContain(aep.credentials.clientSecret);
  });

  test('no secret value appears in templates, cdk.out, logs, responses or errors', () => {
    const leaks: string[] = [];
    for (const [where, text] of haystacks()) {
      for (const secret of report.secretValues) {
        if (text.includes(secret)) leaks.push(`${secret.slice(0, 4)}… in ${where}`);
      }
      if (/Bearer\s+[A-Za-z0-9._-]{16,}/.test(text)) leaks.push(`bearer token in ${where}`);
    }
    expect(leaks).toEqual([]);
  });

  test('the handler did log (the scan is not vacuous)', () => {
    expect(report.logs.length).toBeGreaterThan(10);
  });
});

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walk(p) : [p];
  });
}
