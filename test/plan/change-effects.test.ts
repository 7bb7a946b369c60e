/**
 * The change-effects table is one source: it agrees with the handler's kind functions (a
 * property it says replaces is one the handler's Update replaces on), covers every contract
 * property, and the README table and the props' TSDoc are generated from it. Plus the pure
 * decisions plan and handler share.
 */
import * as fs from 'fs';
import * as path from 'path';
import { PROPS_FILES, readmeWithTable, sourceWithSentences } from '../../scripts/change-effects-docs';
import { decideChange, KIND_RULES } from '../../src/decisions/change';
import { decideDelete, decidePatch, decideUpdate } from '../../src/decisions/decision';
import { CHANGE_EFFECTS } from '../../src/private/change-effects';
import {
  CommonProps, ConnectionProps, DataflowConnectionProps, DataflowResourceTypes, DestinationConnectionProps, FlowProps, MappingSetProps,
  ProfileMappingProps, ResourceTypes, TargetConnectionProps,
} from '../../src/private/contract';

const ROOT = path.join(__dirname, '..', '..');
const COMMON = { AepSandboxName: 'prod', AepFlowServiceUrl: 'https://platform.adobe.io/data/foundation/flowservice', AepImsUrl: 'https://ims', AepCredentialsSecretArn: 'arn:s', ContractVersion: '2' };

/** A valid property set per type with a kind, every property present. */
const SAMPLES: Record<string, Record<string, unknown>> = {
  [ResourceTypes.CONNECTION]: {
    ...COMMON,
    Name: 'n',
    Description: 'd',
    ConnectionSpecId: 'spec',
    AuthSpecName: 'Access Key',
    AuthParams: { s3AccessKey: 'k' },
    AuthSecretArn: 'arn:a',
    AuthSecretFields: { s3SecretKey: 'secretAccessKey' },
    ChangeToken: 't',
    Encryption: { specName: 'x', params: { publicKey: 'p' } },
    VerifyAwsKey: 'true',
    SessionTokenDurationSeconds: '3600',
    RemovalPolicy: 'delete',
    ReachabilityBucket: 'b',
    ReachabilityFolder: 'f',
    TrustedImsOrgId: 'O@AdobeOrg',
  },
  [ResourceTypes.TARGET_CONNECTION]: { ...COMMON, Name: 'n', Description: 'd', ConnectionSpecId: 'spec', BaseConnectionId: 'base', Params: { mode: 'S3' }, RemovalPolicy: 'delete' },
  [DataflowResourceTypes.SOURCE_CONNECTION]: {
    ...COMMON, Name: 'n', Description: 'd', ConnectionSpecId: 'spec', BaseConnectionId: 'base', Data: { format: 'delimited' }, Params: { path: '/b/f' }, RemovalPolicy: 'delete',
  },
  [DataflowResourceTypes.FLOW]: {
    ...COMMON,
    Name: 'n',
    Description: 'd',
    FlowSpecName: 'CloudStorageToAEP',
    FlowSpecId: 'fs',
    SourceConnectionId: 's',
    TargetConnectionId: 't',
    Mapping: { mappingId: 'm', mappingVersion: '0' },
    Schedule: { frequency: 'minute' },
    Audiences: [{ id: 'a' }],
    MandatoryFields: ['x'],
    PrimaryFields: [],
    ProfileMapping: { mappingId: 'p', mappingVersion: '0' },
    Enabled: 'true',
    RemovalPolicy: 'delete',
  },
};
SAMPLES[ResourceTypes.DESTINATION_CONNECTION] = { ...SAMPLES[ResourceTypes.CONNECTION], TargetParams: { mode: 'S3' } };
SAMPLES[DataflowResourceTypes.DATASET_TARGET_CONNECTION] = { ...SAMPLES[DataflowResourceTypes.SOURCE_CONNECTION] };

function changed(value: unknown): unknown {
  if (Array.isArray(value)) return [...value, 'changed'];
  if (value && typeof value === 'object') return { ...value, changed: 'yes' };
  return `${String(value)}-changed`;
}

const SANDBOX_KEYS: string[] = [CommonProps.SANDBOX_NAME, CommonProps.FLOW_SERVICE_URL];

describe.each(Object.keys(SAMPLES))('%s: the table agrees with the handler\'s kind functions', (type) => {
  test.each(Object.keys(SAMPLES[type]).filter((k) => !SANDBOX_KEYS.includes(k)))('%s', (key) => {
    const rules = KIND_RULES[type];
    const before = SAMPLES[type];
    const after = { ...before, [key]: changed(before[key]) };
    // A Data Lake target has no base connection: the handler ignores it, the table still says replace.
    if (type === DataflowResourceTypes.DATASET_TARGET_CONNECTION && key === DataflowConnectionProps.BASE_CONNECTION_ID) return;
    const kindChanges = rules.desired(before).key !== rules.desired(after).key;
    expect({ key, replace: CHANGE_EFFECTS[type][key].effect === 'replace' }).toEqual({ key, replace: kindChanges });
  });
});

test('every contract property of every AEP custom resource type has an effect', () => {
  const expected: Record<string, object> = {
    [ResourceTypes.CONNECTION]: ConnectionProps,
    [ResourceTypes.DESTINATION_CONNECTION]: DestinationConnectionProps,
    [ResourceTypes.TARGET_CONNECTION]: TargetConnectionProps,
    [DataflowResourceTypes.SOURCE_CONNECTION]: DataflowConnectionProps,
    [DataflowResourceTypes.DATASET_TARGET_CONNECTION]: DataflowConnectionProps,
    [DataflowResourceTypes.FLOW]: FlowProps,
    [DataflowResourceTypes.MAPPING_SET]: MappingSetProps,
    [DataflowResourceTypes.PROFILE_MAPPING]: ProfileMappingProps,
  };
  const missing = Object.entries(expected).flatMap(([type, props]) =>
    [...Object.values(props), ...Object.values(CommonProps)].filter((k) => !CHANGE_EFFECTS[type]?.[k as string]).map((k) => `${type}.${k}`));
  expect(missing).toEqual([]);
});

test('the README table and each listed prop\'s TSDoc say what the table says (run scripts/change-effects-docs.ts)', () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  expect(readmeWithTable(readme)).toBe(readme);
  for (const [construct, file] of Object.entries(PROPS_FILES)) {
    const source = fs.readFileSync(path.join(ROOT, file), 'utf8');
    expect({ file, upToDate: sourceWithSentences(construct, source) === source }).toEqual({ file, upToDate: true });
  }
});

describe('pure decisions', () => {
  const kind = KIND_RULES[ResourceTypes.CONNECTION];
  const props = SAMPLES[ResourceTypes.CONNECTION];
  const live = { id: 'c1', name: 'n', description: 'd [cdk-aep-s3:us-east-1:111122223333:S/u/L]', connectionSpec: { id: 'spec' }, auth: { specName: 'Access Key' } };

  test('Update: gone or of another kind is a replacement, naming the field; same kind is in place', () => {
    expect(decideUpdate(kind.desired(props), undefined, undefined)?.action).toBe('replace');
    const other = { ...live, auth: { specName: 'IAMRole' } };
    expect(decideUpdate(kind.desired(props), other, kind.of(other, props))).toMatchObject({ action: 'replace', fields: ['authSpecName'] });
    expect(decideUpdate(kind.desired(props), live, kind.of(live, props))).toBeUndefined();
    expect(decidePatch([{ op: 'replace', path: '/transformations/0/params/segmentSelectors/selectors/-', value: {} }])).toMatchObject({ action: 'patch', fields: ['audiences'] });
    expect(decidePatch([]).action).toBe('none');
  });

  test('Delete: gone is nothing, RETAIN retains, else delete', () => {
    expect(decideDelete(props, undefined).action).toBe('none');
    expect(decideDelete({ ...props, RemovalPolicy: 'retain' }, live).action).toBe('retain');
    expect(decideDelete(props, live).action).toBe('delete');
  });

  test('same properties, renamed in the AEP UI: no Update is sent, so no action, and the drift is shown', () => {
    const renamed = { ...live, name: 'renamed in the UI' };
    expect(decideChange({ resourceType: ResourceTypes.CONNECTION, previous: props, desired: props, current: renamed }))
      .toEqual({ action: 'none', fields: [], changed: [], drift: ['name'] });
  });

  test('a change with drift: the Update patches the changed fields and the drift', () => {
    const renamed = { ...live, name: 'renamed in the UI' };
    const d = decideChange({ resourceType: ResourceTypes.CONNECTION, previous: props, desired: { ...props, Description: 'new' }, current: renamed });
    expect(d).toMatchObject({ action: 'patch', fields: ['description', 'name'], drift: ['name'] });
  });

  test('a removed mapping set is retained (AEP cannot delete it); a removed flow under RETAIN too', () => {
    expect(decideChange({ resourceType: DataflowResourceTypes.MAPPING_SET, previous: { ...COMMON } }).action).toBe('retain');
    expect(decideChange({ resourceType: DataflowResourceTypes.FLOW, previous: { ...SAMPLES[DataflowResourceTypes.FLOW], RemovalPolicy: 'retain' } }).action).toBe('retain');
  });

  test('a dataset export takes a new source connection in place', () => {
    const flow = { ...SAMPLES[DataflowResourceTypes.FLOW], DatasetSchedule: { interval: '3', timeUnit: 'hour', startTime: '1' } };
    const d = decideChange({ resourceType: DataflowResourceTypes.FLOW, previous: flow, desired: { ...flow, SourceConnectionId: '«new X.SourceConnectionId»' } });
    expect(d).toMatchObject({ action: 'patch', fields: ['sourceConnectionIds'] });
  });
});
