import { Annotations, RemovalPolicy, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { AepSandbox } from './aep-sandbox';
import { DataflowHealth, DataflowHealthAlarms } from './dataflow-health';
import {
  DataflowAttributes, DataflowIds, DataflowResourceTypes, FlowProps, ProfileMappingProps,
} from './private/contract';
import { DataflowParts } from './private/dataflow-parts';
import { constructing } from './private/errors';
import { minInterval, reEnableProperty, scheduleIntervalSeconds } from './private/health-checker';
import { attributeListProblems, attributeMapping, MAX_MAPPED_ATTRIBUTES } from './private/profile-attributes';
import { validateCalendarDate } from './private/schedule-time';
import { invalid, validateEnum } from './private/validation';

/** How often incremental audience exports run. */
export enum IncrementalFrequency {
  /** Once a day. */
  DAILY = 'DAILY',
  /** Every 3 hours. */
  EVERY_3_HOURS = 'EVERY_3_HOURS',
  /** Every 6 hours. */
  EVERY_6_HOURS = 'EVERY_6_HOURS',
  /** Every 8 hours. */
  EVERY_8_HOURS = 'EVERY_8_HOURS',
  /** Every 12 hours. */
  EVERY_12_HOURS = 'EVERY_12_HOURS',
}

/** Options shared by audience schedules. */
export interface AudienceScheduleOptions {
  /**
   * First day, `YYYY-MM-DD`: a calendar day as AEP takes it (UTC, like `hourUtc`), so no zone
   * is involved, unlike the instants of dataset and ingestion schedules.
   */
  readonly startDate: string;
  /**
   * Last day, `YYYY-MM-DD` (a UTC calendar day; not with {@link AudienceSchedule.onceFull}).
   * @default - no end
   */
  readonly endDate?: string;
}

/** Options of {@link AudienceSchedule.dailyFullAt} and {@link AudienceSchedule.incremental}. */
export interface TimedAudienceScheduleOptions extends AudienceScheduleOptions {
  /**
   * Hour of day (UTC, 0–23) of the export; AEP only takes whole hours.
   * @default - after daily segmentation (full exports), AEP's choice (incremental)
   */
  readonly hourUtc?: number;
}

/** When and how an audience is exported (export mode + schedule). Patched in place (that audience's selector only). */
export class AudienceSchedule {
  /** Full file every day, after the daily batch segmentation job. */
  public static dailyFullAfterSegmentation(options: AudienceScheduleOptions): AudienceSchedule {
    return new AudienceSchedule('DAILY_FULL_EXPORT', { frequency: 'DAILY', triggerType: 'AFTER_SEGMENT_EVAL', ...dates(options) });
  }

  /** Full file every day at `hourUtc`. */
  public static dailyFullAt(options: TimedAudienceScheduleOptions): AudienceSchedule {
    if (options.hourUtc === undefined) invalid('schedule.hourUtc', undefined, 'is required for a scheduled daily full export');
    return new AudienceSchedule('DAILY_FULL_EXPORT', { frequency: 'DAILY', triggerType: 'SCHEDULED', ...dates(options), startTime: hour(options.hourUtc) });
  }

  /** One full file on `startDate`, after segmentation (`endDate` does not apply). */
  public static onceFull(options: AudienceScheduleOptions): AudienceSchedule {
    if (options.endDate !== undefined) invalid('schedule.endDate', options.endDate, 'does not apply to a one-time full export (DAILY_FULL_EXPORT + ONCE)');
    return new AudienceSchedule('DAILY_FULL_EXPORT', { frequency: 'ONCE', triggerType: 'AFTER_SEGMENT_EVAL', ...dates(options) });
  }

  /** A first full file, then incremental files every `frequency`. */
  public static incremental(frequency: IncrementalFrequency, options: TimedAudienceScheduleOptions): AudienceSchedule {
    validateEnum('schedule.frequency', frequency, IncrementalFrequency, 'IncrementalFrequency');
    const schedule: { [key: string]: string } = { frequency, ...dates(options) };
    if (options.hourUtc !== undefined) schedule.startTime = hour(options.hourUtc);
    return new AudienceSchedule('FIRST_FULL_THEN_INCREMENTAL', schedule);
  }

  private constructor(
    /** AEP's `exportMode`. */
    public readonly exportMode: string,
    private readonly schedule: { [key: string]: string },
  ) {}

  /** @internal */
  public _toSchedule(): { [key: string]: string } {
    return this.schedule;
  }
}

function dates(options: AudienceScheduleOptions): { [key: string]: string } {
  validateCalendarDate('schedule.startDate', options.startDate);
  validateCalendarDate('schedule.endDate', options.endDate);
  const comparable = options.endDate !== undefined && !Token.isUnresolved(options.endDate) && !Token.isUnresolved(options.startDate);
  if (comparable && options.endDate! < options.startDate) {
    invalid('schedule.endDate', options.endDate, `must not be before startDate ${options.startDate}`);
  }
  return options.endDate === undefined ? { startDate: options.startDate } : { startDate: options.startDate, endDate: options.endDate };
}

function hour(h: number): string {
  if (!Number.isInteger(h) || h < 0 || h > 23) invalid('schedule.hourUtc', h, 'must be a whole hour 0–23 (AEP only takes HH:00)');
  return `${String(h).padStart(2, '0')}:00`;
}

/** File-name macros AEP's new cloud-storage cards accept ([spec-dst] "(Beta) File Name Template"). */
const FILE_NAME_MACROS = [
  'DESTINATION', 'SEGMENT_ID', 'SEGMENT_NAME', 'DESTINATION_INSTANCE_ID', 'DESTINATION_INSTANCE_NAME',
  'ORGANIZATION_NAME', 'SANDBOX_NAME', 'TIMESTAMP', 'DATETIME(YYYYMMdd_HHmmss)',
];

/** One audience a destination dataflow exports. */
export interface AudienceExport {
  /** The audience (segment) id. */
  readonly audienceId: string;
  /**
   * Audience name shown in AEP.
   * @default - not sent
   */
  readonly audienceName?: string;
  /** Export mode and schedule. */
  readonly schedule: AudienceSchedule;
  /**
   * File name template of AEP's macros (`%SEGMENT_ID%`, `%SEGMENT_NAME%`, `%DESTINATION%`,
   * `%DESTINATION_INSTANCE_ID%`, `%DESTINATION_INSTANCE_NAME%`, `%ORGANIZATION_NAME%`,
   * `%SANDBOX_NAME%`, `%DATETIME(YYYYMMdd_HHmmss)%`, `%TIMESTAMP%`) and literal text.
   * @default - AEP's default name
   */
  readonly fileNameTemplate?: string;
}

/** A deduplication key of exported profiles. */
export class DeduplicationKey {
  /** An identity namespace, e.g. `Email`. */
  public static identity(namespace: string): DeduplicationKey {
    return new DeduplicationKey({ fieldType: 'IDENTITY', identityNamespace: namespace });
  }

  /** A profile attribute, e.g. `personalEmail.address`. */
  public static attribute(path: string): DeduplicationKey {
    return new DeduplicationKey({ fieldType: 'ATTRIBUTE', attributePath: path });
  }

  private constructor(private readonly key: { [key: string]: string }) {}

  /** @internal */
  public _toField(): { [key: string]: string } {
    return this.key;
  }
}

/** Options of `AepS3Destination.addAudienceDataflow`. */
export interface DestinationDataflowOptions {
  /**
   * Audiences to export. Adding, removing or changing one PATCHes only its selector; the flow is kept.
   * Change in AEP: patched in place; dataflows: one selector added, changed or removed per audience; the flow stays.
   */
  readonly audiences: AudienceExport[];
  /**
   * Profile attributes written to the files, in column order: XDM paths of the profile union
   * schema (`person.name.firstName`, `personalEmail.address`, `_acme.loyalty.tier`) and at most
   * one identity as `identityMap.<namespace>` (`identityMap.Email`; AEP exports one identity
   * per dataflow). Each becomes a column named after the path with dots as underscores
   * (`person_name_firstName`; an identity column is its namespace, `Email`). The handler checks
   * at deploy time that every path exists in the sandbox's union schema.
   *
   * A change makes a new Data Prep mapping set (AEP cannot change or delete one; the old set
   * stays, unused) and patches the flow's `profileMapping` in place.
   * Change in AEP: patched in place; dataflows: a new profile mapping set is made; the flow is patched to it.
   *
   * @default - no attributes (the flow's `profileMapping` stays empty)
   */
  readonly attributes?: string[];
  /**
   * Mandatory attributes (profile union schema fields or identity namespaces). An entry that is
   * one of `attributes` is sent in its column form (`person.name.lastName` →
   * `person_name_lastName`), as AEP stores it. Patched in place.
   * @default - none
   */
  readonly mandatoryAttributes?: string[];
  /**
   * Deduplication keys. Patched in place.
   * @default - none
   */
  readonly deduplicationKeys?: DeduplicationKey[];
  /**
   * Dataflow name. Patched in place.
   * @default - the construct path
   */
  readonly name?: string;
  /**
   * Dataflow description. Patched in place.
   * @default - 'Managed by AWS CDK (cdk-aep-s3): <construct path>'
   */
  readonly description?: string;
  /**
   * Whether exports run (enable/disable in place).
   * Change in AEP: patched in place; dataflows: enabled or disabled in place.
   *
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * RETAIN keeps the flow and its Profile Store source connection in AEP. Needs RETAIN on the
   * destination too (refused at synth otherwise): AEP refuses to delete a target connection a kept flow uses.
   * @default RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Watch the dataflow after deploy: `DataflowHealth.alarms({ alarmTopic })` adds a scheduled
   * check of its runs and four CloudWatch alarms (failed runs, empty runs, no success for too
   * long, disabled by AEP).
   * @default - not watched
   */
  readonly health?: DataflowHealth;
  /**
   * Whether a deploy enables again a dataflow that AEP disabled itself (AEP disables a source
   * dataflow whose runs failed for 30 days). Off, the deploy leaves it disabled and reports AEP's
   * reason (the flow resource's `AepNotice` attribute and the handler log): enabling a flow
   * whose cause is not fixed only fails again. A flow disabled by a person is enabled again
   * either way, as the stack declares.
   * @default false
   */
  readonly reEnableWhenDisabledByAep?: boolean;
}

/** Properties of a {@link DestinationDataflow}. */
export interface DestinationDataflowProps extends DestinationDataflowOptions {
  /** Where and as whom the dataflow is registered (the connection's sandbox). */
  readonly sandbox: AepSandbox;
  /** The S3 destination's target connection id (audience exports). */
  readonly targetConnectionId: string;
}

/**
 * An audience export dataflow into an S3 destination: a Profile Store source connection and the
 * flow (the S3 audience flow spec, checked at deploy time), with one selector per audience.
 * The flow is replaced only when its target connection changes.
 */
export class DestinationDataflow extends Construct {
  /** The AEP flow id. */
  public readonly flowId: string;
  /** The health check and alarms ({@link DataflowHealth.alarms}); undefined when not watched. */
  public readonly healthAlarms?: DataflowHealthAlarms;

  constructor(scope: Construct, id: string, props: DestinationDataflowProps) {
    super(scope, id);
    constructing(this);
    const audiences = validateAudiences(props.audiences);
    const attributes = validateAttributes(props.attributes);
    warnAboveGuardrails(this, audiences.length, attributes);
    const parts = new DataflowParts(this, props);
    const source = parts.connection('ProfileStoreConnection', DataflowResourceTypes.SOURCE_CONNECTION, 'profiles', DataflowIds.PROFILE_STORE_SOURCE_SPEC);
    const profileMapping = attributes && parts.resource('ProfileMapping', DataflowResourceTypes.PROFILE_MAPPING, { [ProfileMappingProps.ATTRIBUTES]: attributes });
    const flow = parts.flow({
      [FlowProps.FLOW_SPEC_ID]: DataflowIds.S3_AUDIENCE_FLOW_SPEC,
      [FlowProps.SOURCE_CONNECTION_ID]: source.getAttString(DataflowAttributes.SOURCE_CONNECTION_ID),
      [FlowProps.TARGET_CONNECTION_ID]: props.targetConnectionId,
      [FlowProps.AUDIENCES]: audiences,
      [FlowProps.MANDATORY_FIELDS]: (props.mandatoryAttributes ?? []).map((m) => (attributes?.includes(m) ? attributeMapping(m).destination : m)),
      [FlowProps.PRIMARY_FIELDS]: (props.deduplicationKeys ?? []).map((k) => k._toField()),
      ...(profileMapping ? {
        [FlowProps.PROFILE_MAPPING]: {
          mappingId: profileMapping.getAttString(DataflowAttributes.MAPPING_SET_ID),
          mappingVersion: profileMapping.getAttString(DataflowAttributes.MAPPING_SET_VERSION),
        },
      } : {}),
      ...reEnableProperty(props.reEnableWhenDisabledByAep),
    }, props.enabled);
    this.flowId = flow.getAttString(DataflowAttributes.FLOW_ID);
    this.healthAlarms = props.health?._bind(this, {
      sandbox: props.sandbox,
      flowId: this.flowId,
      flowName: parts.name,
      enabled: props.enabled ?? true,
      intervalSeconds: minInterval(props.audiences.map((a) => scheduleIntervalSeconds(a.schedule._toSchedule()))),
    });
  }
}

/** AEP's guardrail on audiences per destination dataflow (soft; Adobe's guardrails page). */
const MAX_AUDIENCES_PER_DATAFLOW = 250;

/** AEP's soft guardrails: exceeding them works, but Adobe advises against it, so warn, not fail. */
function warnAboveGuardrails(flow: Construct, audienceCount: number, attributes: string[] | undefined): void {
  if (audienceCount > MAX_AUDIENCES_PER_DATAFLOW) {
    Annotations.of(flow).addWarningV2('cdk-aep-s3:audiences-per-dataflow',
      `audiences: ${audienceCount} audiences in one dataflow, above AEP's guardrail of ${MAX_AUDIENCES_PER_DATAFLOW} per dataflow (a soft limit: `
      + 'activations may slow down or be refused). Split them over several dataflows (addAudienceDataflow again on this destination).');
  }
  if (attributes !== undefined && !Token.isUnresolved(attributes) && attributes.length > MAX_MAPPED_ATTRIBUTES) {
    Annotations.of(flow).addWarningV2('cdk-aep-s3:attributes-per-dataflow',
      `attributes: ${attributes.length} mapped attributes, above AEP's guardrail of ${MAX_MAPPED_ATTRIBUTES} per destination dataflow (a soft `
      + 'limit: exports may slow down). Export fewer attributes, or split the audiences over dataflows with fewer attributes each.');
  }
}

function validateAttributes(attributes: string[] | undefined): string[] | undefined {
  if (attributes === undefined) return undefined;
  if (!Token.isUnresolved(attributes) && attributes.length === 0) invalid('attributes', attributes, 'needs at least one attribute (omit it to export none)');
  const problems = Token.isUnresolved(attributes) ? [] : attributeListProblems(attributes, (p) => Token.isUnresolved(p));
  if (problems.length) invalid(`attributes[${problems[0][0]}]`, attributes[problems[0][0]], problems[0][1]);
  return attributes;
}

function validateAudiences(audiences: AudienceExport[]): Array<{ [key: string]: unknown }> {
  if (audiences.length === 0) invalid('audiences', audiences, 'needs at least one audience');
  const seen = new Set<string>();
  return audiences.map((a, i) => {
    if (!Token.isUnresolved(a.audienceId)) {
      if (!a.audienceId.trim()) invalid(`audiences[${i}].audienceId`, a.audienceId, 'must not be empty');
      if (seen.has(a.audienceId)) invalid(`audiences[${i}].audienceId`, a.audienceId, 'is listed twice; one flow exports an audience once');
      seen.add(a.audienceId);
    }
    const t = a.fileNameTemplate;
    if (t !== undefined && !Token.isUnresolved(t)) {
      for (const macro of t.match(/%[^%]*%/g) ?? []) {
        if (!FILE_NAME_MACROS.includes(macro.slice(1, -1))) {
          invalid(`audiences[${i}].fileNameTemplate`, t, `${macro} is not an AEP file name macro (allowed: ${FILE_NAME_MACROS.map((m) => `%${m}%`).join(', ')})`);
        }
      }
      // What is left once every %…% pair is taken out must hold no '%': a macro missing its
      // closing '%' would otherwise reach AEP as literal text in every file name.
      if (t.replace(/%[^%]*%/g, '').includes('%')) {
        invalid(`audiences[${i}].fileNameTemplate`, t, "has an unpaired '%': write each macro as %NAME% (e.g. %SEGMENT_ID%)");
      }
      if (!/^[\w%().-]+$/.test(t)) invalid(`audiences[${i}].fileNameTemplate`, t, 'may only hold macros, letters, digits, _ - . ( )');
    }
    const value: { [key: string]: unknown } = { id: a.audienceId, exportMode: a.schedule.exportMode, schedule: a.schedule._toSchedule() };
    if (a.audienceName !== undefined) value.name = a.audienceName;
    if (t !== undefined) value.fileNameTemplate = t;
    return value;
  });
}
