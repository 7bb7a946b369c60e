import { Annotations, RemovalPolicy, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { AepSandbox } from './aep-sandbox';
import { DataflowHealth, DataflowHealthAlarms } from './dataflow-health';
import { DataflowAttributes, DataflowConnectionProps, DataflowIds, DataflowResourceTypes, FlowProps } from './private/contract';
import { DataflowParts } from './private/dataflow-parts';
import { constructing } from './private/errors';
import { reEnableProperty, scheduleIntervalSeconds } from './private/health-checker';
import { instantSeconds } from './private/schedule-time';
import { invalid } from './private/validation';

/** Hour intervals AEP runs incremental dataset exports at (1 hour since July 2026). */
const DATASET_EXPORT_HOURS = [1, 3, 6, 9, 12];

/** Options of every {@link DatasetExportSchedule}. */
export interface DatasetScheduleOptions {
  /**
   * First export: an ISO-8601 date and time with its zone, `Z` or an offset
   * (`2025-01-01T00:00:00Z`, `2025-01-01T02:00:00+02:00`), sent in epoch seconds. A time
   * without a zone is refused: it would mean another instant on every machine that synthesizes
   * the app.
   */
  readonly startTime: string;
  /**
   * Last export, written like `startTime` (with its zone) and after it. Adobe notes that a dataset
   * export created without an end time stops six months after creation; set one to be explicit
   * (synth warns when it is absent).
   * @default - none sent: AEP ends the export six months after the flow's creation
   */
  readonly endTime?: string;
}

/**
 * When a dataset export runs: every 1, 3, 6, 9 or 12 hours, or daily. [spec-dst] "Dataset Schedule
 * Params" names 3/6/9/12 hours and 1 day in prose; hourly exports came in July 2026 (Adobe's
 * release notes), and the spec's `interval` enum (1, 3, 6, 9, 12) already allows them. Always
 * `FIRST_FULL_THEN_INCREMENTAL`: a full snapshot first, then what was added since the previous
 * export. Patched in place (`replace /scheduleParams`).
 *
 * A one-time full export is not offered: [spec-dst] allows `DAILY_FULL_EXPORT` only with
 * `interval: 0`, which its own `interval` enum (1, 3, 6, 9, 12) rejects.
 */
export class DatasetExportSchedule {
  /** Every `hours` hours (1, 3, 6, 9 or 12) from `startTime`. */
  public static everyHours(hours: number, options: DatasetScheduleOptions): DatasetExportSchedule {
    if (!Token.isUnresolved(hours) && !DATASET_EXPORT_HOURS.includes(hours)) {
      invalid('schedule.hours', hours, 'must be 1, 3, 6, 9 or 12 (AEP exports datasets every 1, 3, 6, 9 or 12 hours, or daily: use DatasetExportSchedule.daily for 24)');
    }
    return new DatasetExportSchedule(hours, 'hour', options);
  }

  /** Once a day from `startTime`. */
  public static daily(options: DatasetScheduleOptions): DatasetExportSchedule {
    return new DatasetExportSchedule(1, 'day', options);
  }

  /** AEP's `exportMode`. */
  public readonly exportMode: string = 'FIRST_FULL_THEN_INCREMENTAL';
  /** @internal */
  public readonly _hasEndTime: boolean;
  private readonly params: { [key: string]: string };

  private constructor(interval: number, timeUnit: string, options: DatasetScheduleOptions) {
    const start = instantSeconds('schedule.startTime', options.startTime);
    this.params = { interval: String(interval), timeUnit, startTime: String(start), exportMode: this.exportMode };
    this._hasEndTime = options.endTime !== undefined;
    if (options.endTime !== undefined) {
      const end = instantSeconds('schedule.endTime', options.endTime);
      if (end <= start) invalid('schedule.endTime', options.endTime, `must be after startTime ${options.startTime}`);
      this.params.endTime = String(end);
    }
  }

  /** @internal */
  public _toParams(): { [key: string]: string } {
    return { ...this.params };
  }
}

/**
 * Folder-name macros of dataset exports ([spec-dst] "Dataset Schedule Params" `folderNameTemplate`).
 * `DESTINATION_NAME` is not in that list but is in the same schema's example: accepted (inference).
 */
const FOLDER_NAME_MACROS = [
  'DESTINATION', 'DESTINATION_NAME', 'DATASET_NAME', 'DATASET_ID', 'DESTINATION_INSTANCE_ID', 'DESTINATION_INSTANCE_NAME',
  'SANDBOX_NAME', 'DATETIME(YYYYMMdd_HHmmss)', 'EXPORT_TIME',
];

/** One dataset a dataset export dataflow writes to the bucket. */
export interface DatasetExport {
  /** The dataset id (24 hex characters). */
  readonly datasetId: string;
  /**
   * Dataset name sent with the id (AEP requires one; the docs do not say it must match the
   * catalog's name).
   * @default - the dataset id
   */
  readonly datasetName?: string;
}

/** Options of `AepS3Destination.addDatasetDataflow`. */
export interface DatasetDataflowOptions {
  /**
   * Datasets to export. AEP fixes a Data Lake source connection's datasets at creation: a change
   * replaces that source connection and re-points the flow to it in place
   * (`replace /sourceConnectionIds`, as AEP documents); the flow id is kept.
   * Change in AEP: patched in place; dataflows: a new Data Lake source connection; the flow is re-pointed to it in place.
   */
  readonly datasets: DatasetExport[];
  /** When exports run. Patched in place. */
  readonly schedule: DatasetExportSchedule;
  /**
   * Folder name template of AEP's macros (`%DESTINATION%`, `%DATASET_NAME%`, `%DATASET_ID%`,
   * `%DESTINATION_INSTANCE_ID%`, `%DESTINATION_INSTANCE_NAME%`, `%SANDBOX_NAME%`,
   * `%DATETIME(YYYYMMdd_HHmmss)%` or `%EXPORT_TIME%`) and literal text. Patched in place.
   * @default - AEP's default folder names
   */
  readonly folderNameTemplate?: string;
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
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * RETAIN keeps the flow and its Data Lake source connection in AEP. Needs RETAIN on the
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

/** Properties of a {@link DatasetDataflow}. */
export interface DatasetDataflowProps extends DatasetDataflowOptions {
  /** Where and as whom the dataflow is registered (the connection's sandbox). */
  readonly sandbox: AepSandbox;
  /** The S3 destination's target connection id (dataset exports, `datasetFileType`). */
  readonly targetConnectionId: string;
}

/**
 * A dataset export dataflow into an S3 destination: a Data Lake source connection naming the
 * datasets and the flow (the S3 dataset flow spec, checked at deploy time) with its schedule.
 * The flow is replaced only when its target connection changes.
 */
export class DatasetDataflow extends Construct {
  /** The AEP flow id. */
  public readonly flowId: string;
  /** The health check and alarms ({@link DataflowHealth.alarms}); undefined when not watched. */
  public readonly healthAlarms?: DataflowHealthAlarms;

  constructor(scope: Construct, id: string, props: DatasetDataflowProps) {
    super(scope, id);
    constructing(this);
    const datasets = validateDatasets(props.datasets);
    const schedule = props.schedule._toParams();
    if (props.folderNameTemplate !== undefined) schedule.folderNameTemplate = validateFolderNameTemplate(props.folderNameTemplate);
    if (!props.schedule._hasEndTime) {
      Annotations.of(this).addWarningV2('cdk-aep-s3:dataset-export-no-end-time',
        'schedule has no endTime: AEP stops a dataset export six months after its creation. Set schedule endTime to choose.');
    }
    const parts = new DataflowParts(this, props);
    const source = parts.connection('DataLakeConnection', DataflowResourceTypes.SOURCE_CONNECTION, 'datasets', DataflowIds.DATA_LAKE_SOURCE_SPEC, {
      [DataflowConnectionProps.PARAMS]: { datasets },
    });
    const flow = parts.flow({
      [FlowProps.FLOW_SPEC_ID]: DataflowIds.S3_DATASET_FLOW_SPEC,
      [FlowProps.SOURCE_CONNECTION_ID]: source.getAttString(DataflowAttributes.SOURCE_CONNECTION_ID),
      [FlowProps.TARGET_CONNECTION_ID]: props.targetConnectionId,
      [FlowProps.DATASET_SCHEDULE]: schedule,
      ...reEnableProperty(props.reEnableWhenDisabledByAep),
    }, props.enabled);
    this.flowId = flow.getAttString(DataflowAttributes.FLOW_ID);
    this.healthAlarms = props.health?._bind(this, {
      sandbox: props.sandbox,
      flowId: this.flowId,
      flowName: parts.name,
      enabled: props.enabled ?? true,
      intervalSeconds: scheduleIntervalSeconds(schedule),
    });
  }
}

const DATASET_ID = /^[0-9a-f]{24}$/;

function validateDatasets(datasets: DatasetExport[]): Array<{ [key: string]: string }> {
  if (Token.isUnresolved(datasets)) invalid('datasets', datasets, 'must be a list known at synth time (each entry becomes part of the source connection)');
  if (datasets.length === 0) invalid('datasets', datasets, 'needs at least one dataset');
  const seen = new Set<string>();
  return datasets.map((d, i) => {
    if (!Token.isUnresolved(d.datasetId)) {
      if (!DATASET_ID.test(d.datasetId)) invalid(`datasets[${i}].datasetId`, d.datasetId, 'must be a dataset id (24 hex characters)');
      if (seen.has(d.datasetId)) invalid(`datasets[${i}].datasetId`, d.datasetId, 'is listed twice');
      seen.add(d.datasetId);
    }
    if (d.datasetName !== undefined && !Token.isUnresolved(d.datasetName) && !d.datasetName.trim()) {
      invalid(`datasets[${i}].datasetName`, d.datasetName, 'must not be empty (omit it to send the dataset id)');
    }
    return { dataSetId: d.datasetId, name: d.datasetName ?? d.datasetId };
  });
}

function validateFolderNameTemplate(t: string): string {
  if (Token.isUnresolved(t)) return t;
  if (!t.trim()) invalid('folderNameTemplate', t, 'must not be empty (omit it for AEP\'s default)');
  for (const macro of t.match(/%[^%]*%/g) ?? []) {
    if (!FOLDER_NAME_MACROS.includes(macro.slice(1, -1))) {
      invalid('folderNameTemplate', t, `${macro} is not an AEP folder name macro (allowed: ${FOLDER_NAME_MACROS.map((m) => `%${m}%`).join(', ')})`);
    }
  }
  if (!/^[\w%().-]+$/.test(t)) invalid('folderNameTemplate', t, 'may only hold macros, letters, digits, _ - . ( )');
  return t;
}
