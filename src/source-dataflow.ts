import { RemovalPolicy, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { AepConnection } from './aep-connection';
import { AepSandbox } from './aep-sandbox';
import { DataflowHealth, DataflowHealthAlarms } from './dataflow-health';
import {
  AepIds, DataflowAttributes, DataflowConnectionProps, DataflowIds, DataflowResourceTypes, FlowProps, MappingSetProps,
} from './private/contract';
import { DataflowParts } from './private/dataflow-parts';
import { constructing } from './private/errors';
import { reEnableProperty, scheduleIntervalSeconds } from './private/health-checker';
import { instantSeconds } from './private/schedule-time';
import { invalid, validateEnum } from './private/validation';

/** Compression of ingested delimited or JSON files. */
export enum IngestionCompression {
  /** bzip2. */
  BZIP2 = 'bzip2',
  /** gzip. */
  GZIP = 'gzip',
  /** deflate. */
  DEFLATE = 'deflate',
  /** zip (deflate). */
  ZIP_DEFLATE = 'zipDeflate',
  /** gzipped tar. */
  TAR_GZIP = 'tarGzip',
  /** tar. */
  TAR = 'tar',
}

/** Encoding of ingested delimited files. */
export enum IngestionEncoding {
  /** UTF-8. */
  UTF_8 = 'UTF-8',
  /** ISO-8859-1 (Latin-1). */
  ISO_8859_1 = 'ISO-8859-1',
}

/** Options of {@link IngestionFormat.delimited}. */
export interface DelimitedFormatOptions {
  /**
   * Column delimiter, one character.
   * @default ','
   */
  readonly columnDelimiter?: string;
  /**
   * Character encoding of the files.
   * @default - AEP's default (UTF-8)
   */
  readonly encoding?: IngestionEncoding;
  /**
   * Compression of the files.
   * @default - uncompressed
   */
  readonly compression?: IngestionCompression;
}

/** Options of {@link IngestionFormat.json}. */
export interface JsonFormatOptions {
  /**
   * Compression of the files.
   * @default - uncompressed
   */
  readonly compression?: IngestionCompression;
}

/** The format of the files a source dataflow ingests. Fixed at creation: a change replaces the source connection and the flow. */
export class IngestionFormat {
  /** Delimited text (CSV); needs a mapping. */
  public static delimited(options: DelimitedFormatOptions = {}): IngestionFormat {
    validateEnum('format.encoding', options.encoding, IngestionEncoding, 'IngestionEncoding');
    validateEnum('format.compression', options.compression, IngestionCompression, 'IngestionCompression');
    const d = options.columnDelimiter;
    if (d !== undefined && !Token.isUnresolved(d) && [...d].length !== 1) invalid('format.columnDelimiter', d, 'must be exactly one character');
    const properties: { [key: string]: string } = {};
    if (d !== undefined) properties.columnDelimiter = d;
    if (options.encoding !== undefined) properties.encoding = options.encoding;
    if (options.compression !== undefined) properties.compressionType = options.compression;
    return new IngestionFormat('delimited', properties, true);
  }

  /** JSON; needs a mapping unless the files are XDM-shaped (AEP does not say: a mapping is required here). */
  public static json(options: JsonFormatOptions = {}): IngestionFormat {
    validateEnum('format.compression', options.compression, IngestionCompression, 'IngestionCompression');
    return new IngestionFormat('json', options.compression !== undefined ? { compressionType: options.compression } : {}, true);
  }

  /** XDM-compliant Parquet; no mapping. */
  public static parquet(): IngestionFormat {
    return new IngestionFormat('parquet', {}, false);
  }

  private constructor(
    /** AEP's `data.format`. */
    public readonly format: string,
    private readonly properties: { [key: string]: string },
    /** Whether the format needs a mapping. */
    public readonly needsMapping: boolean,
  ) {}

  /** @internal */
  public _toData(): { [key: string]: unknown } {
    return Object.keys(this.properties).length ? { format: this.format, properties: this.properties } : { format: this.format };
  }
}

/** Units of a recurring ingestion schedule. */
export enum IngestionFrequency {
  /** Every `interval` minutes (at least 15). */
  MINUTE = 'minute',
  /** Every `interval` hours. */
  HOUR = 'hour',
  /** Every `interval` days. */
  DAY = 'day',
  /** Every `interval` weeks. */
  WEEK = 'week',
}

/**
 * When an ingestion schedule starts: the shape every schedule factory of the library takes (an
 * options struct of ISO-8601 strings), as `AudienceScheduleOptions` and `DatasetScheduleOptions`.
 */
export interface IngestionScheduleOptions {
  /**
   * First run: an ISO-8601 date and time with its zone, `Z` or an offset
   * (`2025-01-01T00:00:00Z`, `2025-01-01T02:00:00+02:00`). A time without a zone is refused: it
   * would mean another instant on every machine that synthesizes the app.
   */
  readonly startTime: string;
}

/** Options of {@link IngestionSchedule.recurring}. */
export interface RecurringScheduleOptions extends IngestionScheduleOptions {
  /** The unit of the interval between runs. */
  readonly frequency: IngestionFrequency;
  /** Whole number of units between runs: at least 15 for minutes, at least 1 otherwise. */
  readonly interval: number;
  /**
   * Ingest the files already in the path on the first run.
   * @default true
   */
  readonly backfill?: boolean;
}

/**
 * Properties of {@link IngestionSchedule.recurring}.
 *
 * @deprecated use `RecurringScheduleOptions` (the same fields; "Options", as every other
 * schedule factory's struct). Removed in the next major release.
 */
export interface RecurringScheduleProps extends RecurringScheduleOptions {}

/** When a source dataflow runs. Patched in place. */
export class IngestionSchedule {
  /** One run at `startTime`. */
  public static once(options: IngestionScheduleOptions): IngestionSchedule {
    // JavaScript callers of the former `once(startTime)` signature: say how to call it now.
    const given: unknown = options;
    if (typeof given === 'string' || given instanceof Date) {
      const fix = typeof given === 'string' ? JSON.stringify(given) : 'date.toISOString()';
      invalid('schedule', String(given), `IngestionSchedule.once takes options, as every schedule factory: IngestionSchedule.once({ startTime: ${fix} })`);
    }
    return new IngestionSchedule({ startTime: String(instantSeconds('schedule.startTime', options.startTime)), frequency: 'once' });
  }

  /** Every `interval` units from `startTime`. */
  public static recurring(props: RecurringScheduleOptions): IngestionSchedule {
    validateEnum('schedule.frequency', props.frequency, IngestionFrequency, 'IngestionFrequency');
    const i = props.interval;
    if (!Token.isUnresolved(i)) {
      const min = props.frequency === IngestionFrequency.MINUTE ? 15 : 1;
      if (!Number.isInteger(i) || i < min) invalid('schedule.interval', i, `must be a whole number of at least ${min} for frequency ${props.frequency} (AEP's scheduleSpec)`);
    }
    const params: { [key: string]: string } = {
      startTime: String(instantSeconds('schedule.startTime', props.startTime)),
      frequency: props.frequency,
      interval: String(i),
    };
    if (props.backfill !== undefined) params.backfill = String(props.backfill);
    return new IngestionSchedule(params);
  }

  private constructor(private readonly params: { [key: string]: string }) {}

  /** @internal */
  public _toParams(): { [key: string]: string } {
    return this.params;
  }
}

/** One source field mapped to an XDM path. */
export interface FieldMapping {
  /** Source column or attribute (or an expression with `calculated`). */
  readonly source: string;
  /** XDM path in the target schema, e.g. `person.name.firstName`. */
  readonly destination: string;
  /**
   * `source` is a Data Prep expression, not a column.
   * @default false
   */
  readonly calculated?: boolean;
}

/** How source fields map to the dataset's schema. */
export class IngestionMapping {
  /**
   * A mapping set created through the Data Prep API. AEP cannot change or delete mapping sets:
   * a change creates a new one (the flow is patched to it) and the old one stays in AEP.
   */
  public static inline(mappings: FieldMapping[]): IngestionMapping {
    if (mappings.length === 0) invalid('mapping', mappings, 'needs at least one field mapping');
    mappings.forEach((m, i) => {
      if (!Token.isUnresolved(m.destination) && !/^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$/.test(m.destination)) {
        invalid(`mapping[${i}].destination`, m.destination, 'must be a dotted XDM path (e.g. person.name.firstName)');
      }
    });
    return new IngestionMapping(mappings, undefined, undefined);
  }

  /** An existing mapping set (made in the AEP UI or elsewhere), at `version`. Patched in place. */
  public static existing(mappingSetId: string, version: number = 0): IngestionMapping {
    if (!Token.isUnresolved(mappingSetId) && !/^[0-9a-f]{32}$/.test(mappingSetId)) invalid('mapping.mappingSetId', mappingSetId, 'must be a Data Prep mapping set id (32 hex characters)');
    if (!Number.isInteger(version) || version < 0) invalid('mapping.version', version, 'must be a whole number ≥ 0');
    return new IngestionMapping(undefined, mappingSetId, version);
  }

  private constructor(
    private readonly mappings: FieldMapping[] | undefined,
    private readonly mappingSetId: string | undefined,
    private readonly version: number | undefined,
  ) {}

  /** @internal */
  public _bind(parts: DataflowParts, schemaId: string): { mappingId: string; mappingVersion: string } {
    if (this.mappingSetId !== undefined) return { mappingId: this.mappingSetId, mappingVersion: String(this.version ?? 0) };
    const resource = parts.resource('MappingSet', DataflowResourceTypes.MAPPING_SET, {
      [MappingSetProps.SCHEMA_ID]: schemaId,
      [MappingSetProps.MAPPINGS]: this.mappings!.map((m) => ({ source: m.source, destination: m.destination, sourceType: m.calculated ? 'EXPRESSION' : 'ATTRIBUTE' })),
    });
    return {
      mappingId: resource.getAttString(DataflowAttributes.MAPPING_SET_ID),
      mappingVersion: resource.getAttString(DataflowAttributes.MAPPING_SET_VERSION),
    };
  }
}

/** Options of `AepS3Source.addDataflow`. */
export interface SourceDataflowOptions {
  /**
   * File or folder to read as AEP's `params.path`, `/<bucket>/<key path>` (wildcards allowed, e.g.
   * `/my-bucket/crm/*.csv`; a path with a wildcard or a trailing `/` is sent as a folder, as Adobe's
   * docs do). Must lie in the source's bucket and folder (`AepS3Source.addDataflow`
   * checks it at synth when both are known). Replaces the source connection and flow when changed.
   * Change in AEP: replaces the AEP object; dataflows: the dataflow is re-created (new flow id; the run history stays with the old one).
   */
  readonly path: string;
  /**
   * Read sub-folders too. Replaces the source connection and flow when changed.
   * @default false
   */
  readonly recursive?: boolean;
  /**
   * File format. Replaces the source connection and flow when changed.
   * Change in AEP: replaces the AEP object; dataflows: the dataflow is re-created (new flow id; the run history stays with the old one).
   */
  readonly format: IngestionFormat;
  /**
   * Target dataset id (24 hex characters). Replaces the target connection and flow when changed.
   * Change in AEP: replaces the AEP object; dataflows: the dataflow is re-created (new flow id; the run history stays with the old one).
   */
  readonly datasetId: string;
  /** `$id` of the dataset's XDM schema (`https://ns.adobe.com/<tenant>/schemas/<hex>`). Replaces the target connection and flow when changed. */
  readonly schemaId: string;
  /**
   * Field mapping; required for delimited and JSON files. Patched in place.
   * Change in AEP: patched in place; dataflows: a new mapping set is made (AEP cannot delete the old one); the dataflow is patched to it.
   *
   * @default - none (Parquet only)
   */
  readonly mapping?: IngestionMapping;
  /**
   * When to ingest. Patched in place.
   * Change in AEP: patched in place; dataflows: untouched.
   */
  readonly schedule: IngestionSchedule;
  /**
   * Dataflow name. Patched in place.
   * Change in AEP: patched in place; dataflows: untouched.
   *
   * @default - the construct path
   */
  readonly name?: string;
  /**
   * Dataflow description. Patched in place.
   * @default - 'Managed by AWS CDK (cdk-aep-s3): <construct path>'
   */
  readonly description?: string;
  /**
   * Whether the dataflow runs (enable/disable in place).
   * Change in AEP: patched in place; dataflows: enabled or disabled in place.
   *
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * RETAIN keeps the flow and its connections in AEP when removed from the stack. Needs RETAIN on
   * the source too (refused at synth otherwise): AEP refuses to delete a connection a kept flow uses.
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

/** Properties of a {@link SourceDataflow}. */
export interface SourceDataflowProps extends SourceDataflowOptions {
  /** Where and as whom the dataflow is registered (the connection's sandbox). */
  readonly sandbox: AepSandbox;
  /** The S3 source base connection. */
  readonly connection: AepConnection;
}

const DATASET_ID = /^[0-9a-f]{24}$/;
const SCHEMA_ID = /^https:\/\/ns\.adobe\.com\/[A-Za-z0-9_-]+\/schemas\/[0-9a-f]+$/;

/**
 * An ingestion dataflow: files under `path` in the source bucket → an existing dataset. Creates
 * the source connection, the Data Lake target connection, the mapping set (inline mappings) and
 * the flow (`CloudStorageToAEP`, resolved by name at deploy time). CloudFormation deletes the
 * flow first, then its connections, then (with the source) the base connection.
 */
export class SourceDataflow extends Construct {
  /** The AEP flow id. */
  public readonly flowId: string;
  /** The health check and alarms ({@link DataflowHealth.alarms}); undefined when not watched. */
  public readonly healthAlarms?: DataflowHealthAlarms;
  /** The source connection id. */
  public readonly sourceConnectionId: string;
  /** The Data Lake target connection id. */
  public readonly targetConnectionId: string;

  constructor(scope: Construct, id: string, props: SourceDataflowProps) {
    super(scope, id);
    constructing(this);
    validate(props);
    const parts = new DataflowParts(this, props);
    const params: { [key: string]: unknown } = { path: props.path, type: props.recursive || /\*|\/$/.test(props.path) ? 'folder' : 'file' };
    if (props.recursive !== undefined) params.recursive = String(props.recursive);
    const source = parts.connection('SourceConnection', DataflowResourceTypes.SOURCE_CONNECTION, 'source', AepIds.S3_SOURCE_CONNECTION_SPEC, {
      [DataflowConnectionProps.BASE_CONNECTION_ID]: props.connection.connectionId,
      [DataflowConnectionProps.DATA]: props.format._toData(),
      [DataflowConnectionProps.PARAMS]: params,
    });
    const target = parts.connection('TargetConnection', DataflowResourceTypes.DATASET_TARGET_CONNECTION, 'target', DataflowIds.DATA_LAKE_TARGET_CONNECTION_SPEC, {
      [DataflowConnectionProps.DATA]: { schema: { id: props.schemaId, version: DataflowIds.XDM_FULL_CONTENT_TYPE } },
      [DataflowConnectionProps.PARAMS]: { dataSetId: props.datasetId },
    });
    const mapping = props.mapping?._bind(parts, props.schemaId);
    const flow = parts.flow({
      [FlowProps.FLOW_SPEC_NAME]: DataflowIds.CLOUD_STORAGE_FLOW_SPEC_NAME,
      [FlowProps.FLOW_SPEC_ID]: DataflowIds.CLOUD_STORAGE_FLOW_SPEC,
      [FlowProps.SOURCE_CONNECTION_ID]: source.getAttString(DataflowAttributes.SOURCE_CONNECTION_ID),
      [FlowProps.TARGET_CONNECTION_ID]: target.getAttString(DataflowAttributes.TARGET_CONNECTION_ID),
      [FlowProps.MAPPING]: mapping,
      [FlowProps.SCHEDULE]: props.schedule._toParams(),
      ...reEnableProperty(props.reEnableWhenDisabledByAep),
    }, props.enabled);
    this.flowId = flow.getAttString(DataflowAttributes.FLOW_ID);
    this.healthAlarms = props.health?._bind(this, {
      sandbox: props.sandbox,
      flowId: this.flowId,
      flowName: parts.name,
      enabled: props.enabled ?? true,
      intervalSeconds: scheduleIntervalSeconds(props.schedule._toParams()),
    });
    this.sourceConnectionId = source.getAttString(DataflowAttributes.SOURCE_CONNECTION_ID);
    this.targetConnectionId = target.getAttString(DataflowAttributes.TARGET_CONNECTION_ID);
  }
}

function validate(props: SourceDataflowProps): void {
  if (!Token.isUnresolved(props.datasetId) && !DATASET_ID.test(props.datasetId)) invalid('datasetId', props.datasetId, 'must be a dataset id: 24 lowercase hex characters');
  if (!Token.isUnresolved(props.schemaId) && !SCHEMA_ID.test(props.schemaId)) {
    invalid('schemaId', props.schemaId, 'must be an XDM schema $id: https://ns.adobe.com/<tenant>/schemas/<hex>');
  }
  if (!Token.isUnresolved(props.path) && props.path.trim() === '') invalid('path', props.path, 'must be a non-empty file or folder path');
  if (props.format.needsMapping && props.mapping === undefined) invalid('mapping', undefined, `is required for ${props.format.format} files (their fields are not XDM paths)`);
  if (!props.format.needsMapping && props.mapping !== undefined) invalid('mapping', 'set', 'does not apply to XDM Parquet files');
}
