/**
 * One source for what a property change does in AEP: `cdk-aep-s3 plan` decides from it, the
 * README table is generated from it (projen-free script, checked by a test) and each construct
 * prop's TSDoc carries the same sentence (checked by a test). Pure data: no CDK imports, so the
 * CLI bundle can take it.
 */
import {
  CommonProps, ConnectionProps, DataflowConnectionProps, DataflowResourceTypes, DestinationConnectionProps, FlowProps, MappingSetProps,
  ProfileMappingProps, ResourceTypes, TargetConnectionProps,
} from './contract';

/** What changing one custom-resource property does to its AEP object. */
export type ChangeEffect = 'patch' | 'replace' | 'none';

/** The effect of one property and the AEP field it lands in. */
export interface PropertyEffect {
  readonly effect: ChangeEffect;
  /** The AEP field patched (as a plan names it), for `patch`. */
  readonly field?: string;
  /** Why, for `replace` and `none`. */
  readonly why?: string;
}

const patch = (field: string): PropertyEffect => ({ effect: 'patch', field });
const replace = (why: string): PropertyEffect => ({ effect: 'replace', why });
const none = (why: string): PropertyEffect => ({ effect: 'none', why });

const SANDBOX_WHY = 'the new sandbox cannot see the old object';

const COMMON: Record<string, PropertyEffect> = {
  [CommonProps.CONTRACT_VERSION]: none('library version marker, never sent to AEP'),
  [CommonProps.CREDENTIALS_SECRET_ARN]: none('who calls AEP, not what AEP stores'),
  [CommonProps.SANDBOX_NAME]: replace(SANDBOX_WHY),
  [CommonProps.FLOW_SERVICE_URL]: replace(SANDBOX_WHY),
  [CommonProps.IMS_URL]: none('who calls AEP, not what AEP stores'),
};

const BASE_CONNECTION: Record<string, PropertyEffect> = {
  ...COMMON,
  [ConnectionProps.NAME]: patch('name'),
  [ConnectionProps.DESCRIPTION]: patch('description'),
  [ConnectionProps.CONNECTION_SPEC_ID]: replace('AEP cannot change a connection\'s connection spec'),
  [ConnectionProps.AUTH_SPEC_NAME]: replace('AEP cannot change a connection\'s auth type (1414-400)'),
  [ConnectionProps.AUTH_PARAMS]: patch('auth'),
  [ConnectionProps.AUTH_SECRET_ARN]: patch('auth'),
  [ConnectionProps.AUTH_SECRET_FIELDS]: patch('auth'),
  [ConnectionProps.CHANGE_TOKEN]: patch('auth'),
  [ConnectionProps.SESSION_TOKEN_DURATION]: patch('auth'),
  [ConnectionProps.ENCRYPTION]: patch('encryption'),
  [ConnectionProps.VERIFY_AWS_KEY]: none('a deploy-time check only'),
  [ConnectionProps.REMOVAL_POLICY]: none('read when the resource is deleted'),
  [ConnectionProps.REACHABILITY_BUCKET]: none('a deploy-time check only'),
  [ConnectionProps.REACHABILITY_FOLDER]: none('a deploy-time check only'),
  [ConnectionProps.TRUSTED_IMS_ORG_ID]: none('a deploy-time check only'),
};

const DATAFLOW_CONNECTION: Record<string, PropertyEffect> = {
  ...COMMON,
  [DataflowConnectionProps.NAME]: patch('name'),
  [DataflowConnectionProps.DESCRIPTION]: patch('description'),
  [DataflowConnectionProps.CONNECTION_SPEC_ID]: replace('AEP cannot change a connection\'s connection spec'),
  [DataflowConnectionProps.BASE_CONNECTION_ID]: replace('AEP cannot move a source connection to another base connection'),
  [DataflowConnectionProps.DATA]: replace('AEP documents no change to a source or target connection\'s data format'),
  [DataflowConnectionProps.PARAMS]: replace('AEP documents no change to a source or target connection\'s path or datasets'),
  [DataflowConnectionProps.REMOVAL_POLICY]: none('read when the resource is deleted'),
};

/** Per custom resource type, per contract property: what a change does. */
export const CHANGE_EFFECTS: Readonly<Record<string, Readonly<Record<string, PropertyEffect>>>> = {
  [ResourceTypes.CONNECTION]: BASE_CONNECTION,
  [ResourceTypes.DESTINATION_CONNECTION]: {
    ...BASE_CONNECTION,
    [DestinationConnectionProps.TARGET_PARAMS]: patch('target.params'),
  },
  [ResourceTypes.TARGET_CONNECTION]: {
    ...COMMON,
    [TargetConnectionProps.NAME]: patch('name'),
    [TargetConnectionProps.DESCRIPTION]: patch('description'),
    [TargetConnectionProps.CONNECTION_SPEC_ID]: replace('AEP cannot change a target connection\'s connection spec'),
    [TargetConnectionProps.BASE_CONNECTION_ID]: replace('AEP cannot move a target connection to another base connection'),
    [TargetConnectionProps.PARAMS]: patch('params'),
    [TargetConnectionProps.REMOVAL_POLICY]: none('read when the resource is deleted'),
  },
  [DataflowResourceTypes.SOURCE_CONNECTION]: DATAFLOW_CONNECTION,
  [DataflowResourceTypes.DATASET_TARGET_CONNECTION]: DATAFLOW_CONNECTION,
  [DataflowResourceTypes.MAPPING_SET]: {
    ...COMMON,
    [MappingSetProps.SCHEMA_ID]: replace('Data Prep mapping sets cannot be patched: a new set is made (the old one stays: AEP cannot delete it)'),
    [MappingSetProps.MAPPINGS]: replace('Data Prep mapping sets cannot be patched: a new set is made (the old one stays: AEP cannot delete it)'),
  },
  [DataflowResourceTypes.PROFILE_MAPPING]: {
    ...COMMON,
    [ProfileMappingProps.ATTRIBUTES]: replace('Data Prep mapping sets cannot be patched: a new set is made (the old one stays: AEP cannot delete it)'),
  },
  [DataflowResourceTypes.FLOW]: {
    ...COMMON,
    [FlowProps.NAME]: patch('name'),
    [FlowProps.DESCRIPTION]: patch('description'),
    [FlowProps.FLOW_SPEC_NAME]: none('which flow spec to look up; a flow keeps the one it was made with'),
    [FlowProps.FLOW_SPEC_ID]: none('which flow spec to look up; a flow keeps the one it was made with'),
    // A dataset export is re-pointed in place: see DATASET_EXPORT_SOURCE_EFFECT.
    [FlowProps.SOURCE_CONNECTION_ID]: replace('AEP cannot change an ingestion or audience flow\'s source connection'),
    [FlowProps.TARGET_CONNECTION_ID]: replace('AEP cannot change a flow\'s target connection'),
    [FlowProps.MAPPING]: patch('mapping'),
    [FlowProps.SCHEDULE]: patch('scheduleParams'),
    [FlowProps.DATASET_SCHEDULE]: patch('scheduleParams'),
    [FlowProps.AUDIENCES]: patch('audiences'),
    [FlowProps.MANDATORY_FIELDS]: patch('mandatoryFields'),
    [FlowProps.PRIMARY_FIELDS]: patch('primaryFields'),
    [FlowProps.PROFILE_MAPPING]: patch('profileMapping'),
    [FlowProps.ENABLED]: patch('state'),
    [FlowProps.RE_ENABLE_WHEN_DISABLED_BY_AEP]: none('read on each deploy: whether a flow AEP disabled is enabled again (then the state is patched)'),
    [FlowProps.REMOVAL_POLICY]: none('read when the resource is deleted'),
  },
};

/** A dataset export flow takes a new Data Lake source connection in place (`replace /sourceConnectionIds`). */
export const DATASET_EXPORT_SOURCE_EFFECT: PropertyEffect = patch('sourceConnectionIds');

/** What changing one construct prop does, as the README table and the prop's TSDoc say it. */
export interface ConstructPropEffect {
  readonly construct: string;
  readonly prop: string;
  readonly effect: ChangeEffect;
  /** What happens to the dataflows that use the object. */
  readonly dataflows: string;
}

const CONNECTION_REPLACED = 'its dataflows are re-created on the new connection (new flow ids; the run history stays with the old ones)';
const UNTOUCHED = 'untouched';
const FLOW_REPLACED = 'the dataflow is re-created (new flow id; the run history stays with the old one)';

/** Construct props whose change reaches AEP. */
export const CONSTRUCT_PROP_EFFECTS: readonly ConstructPropEffect[] = [
  { construct: 'AepSandbox', prop: 'sandboxName', effect: 'replace', dataflows: 'every connection and dataflow is made again in the new sandbox; the old sandbox\'s are deleted' },
  { construct: 'AepSandbox', prop: 'endpoints', effect: 'replace', dataflows: 'every connection and dataflow is made again behind the new endpoints; the old ones are deleted' },
  { construct: 'AepSandbox', prop: 'credentials', effect: 'none', dataflows: UNTOUCHED },
  { construct: 'AepS3Source', prop: 'connectionName', effect: 'patch', dataflows: UNTOUCHED },
  { construct: 'AepS3Source', prop: 'description', effect: 'patch', dataflows: UNTOUCHED },
  { construct: 'AepS3Source', prop: 'folderPath', effect: 'patch', dataflows: UNTOUCHED },
  { construct: 'AepS3Source', prop: 'auth', effect: 'replace', dataflows: CONNECTION_REPLACED },
  { construct: 'AepS3Source', prop: 'removalPolicy', effect: 'none', dataflows: UNTOUCHED },
  { construct: 'AepS3Destination', prop: 'connectionName', effect: 'patch', dataflows: UNTOUCHED },
  { construct: 'AepS3Destination', prop: 'description', effect: 'patch', dataflows: UNTOUCHED },
  { construct: 'AepS3Destination', prop: 'folderPath', effect: 'patch', dataflows: UNTOUCHED },
  { construct: 'AepS3Destination', prop: 'auth', effect: 'replace', dataflows: CONNECTION_REPLACED },
  { construct: 'AepS3Destination', prop: 'fileType', effect: 'patch', dataflows: UNTOUCHED },
  { construct: 'AepS3Destination', prop: 'compression', effect: 'patch', dataflows: UNTOUCHED },
  { construct: 'AepS3Destination', prop: 'encryption', effect: 'patch', dataflows: UNTOUCHED },
  { construct: 'AepS3Destination', prop: 'removalPolicy', effect: 'none', dataflows: UNTOUCHED },
  { construct: 'SourceDataflow', prop: 'name', effect: 'patch', dataflows: UNTOUCHED },
  { construct: 'SourceDataflow', prop: 'schedule', effect: 'patch', dataflows: UNTOUCHED },
  { construct: 'SourceDataflow', prop: 'mapping', effect: 'patch', dataflows: 'a new mapping set is made (AEP cannot delete the old one); the dataflow is patched to it' },
  { construct: 'SourceDataflow', prop: 'path', effect: 'replace', dataflows: FLOW_REPLACED },
  { construct: 'SourceDataflow', prop: 'format', effect: 'replace', dataflows: FLOW_REPLACED },
  { construct: 'SourceDataflow', prop: 'datasetId', effect: 'replace', dataflows: FLOW_REPLACED },
  { construct: 'SourceDataflow', prop: 'enabled', effect: 'patch', dataflows: 'enabled or disabled in place' },
  { construct: 'DestinationDataflow', prop: 'audiences', effect: 'patch', dataflows: 'one selector added, changed or removed per audience; the flow stays' },
  { construct: 'DestinationDataflow', prop: 'attributes', effect: 'patch', dataflows: 'a new profile mapping set is made; the flow is patched to it' },
  { construct: 'DestinationDataflow', prop: 'enabled', effect: 'patch', dataflows: 'enabled or disabled in place' },
  { construct: 'DatasetDataflow', prop: 'datasets', effect: 'patch', dataflows: 'a new Data Lake source connection; the flow is re-pointed to it in place' },
];

/** The sentence a prop's TSDoc and the README say about a change. */
export function changeEffectSentence(row: ConstructPropEffect): string {
  const what = row.effect === 'patch' ? 'patched in place' : row.effect === 'replace' ? 'replaces the AEP object' : 'none';
  return `Change in AEP: ${what}; dataflows: ${row.dataflows}.`;
}

/** The README table (between the generated-table markers). */
export function changeEffectsTable(): string {
  const lines = ['| Construct | Prop | Change in AEP | Dataflows |', '|---|---|---|---|'];
  for (const row of CONSTRUCT_PROP_EFFECTS) {
    const what = row.effect === 'patch' ? 'patched in place' : row.effect === 'replace' ? '**replaces** the AEP object' : 'none';
    lines.push(`| \`${row.construct}\` | \`${row.prop}\` | ${what} | ${row.dataflows} |`);
  }
  return lines.join('\n');
}
