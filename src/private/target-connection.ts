import { Attributes } from './contract';
import type { AepConnection } from '../aep-connection';
import {
  Compression,
  CsvDelimiter,
  CsvEscape,
  CsvOptions,
  CsvQuote,
  CsvValueRepresentation,
  DatasetFileType,
  ExportFileType,
  ExportType,
} from '../export-options';

/**
 * Key of the internal option that makes an `AepConnection` a destination's connection: the base
 * connection AND its target connection as one `Custom::AepDestinationConnection` (internal: not a
 * field of the public props, so the jsii API does not change).
 */
export const WITH_TARGET_CONNECTION = '_withTargetConnection';

/** The internal option {@link WITH_TARGET_CONNECTION}. */
export interface WithTargetConnection {
  readonly [WITH_TARGET_CONNECTION]: {
    /** Target params, already in AEP's wire shape (strings, or objects of strings). */
    readonly params: { [key: string]: unknown };
    /** The IMS org id an assumed role's trust requires: the deploy refuses a credential of another org. */
    readonly trustedImsOrgId?: string;
  };
}

/** The target connection id of a connection made with {@link WITH_TARGET_CONNECTION}. */
export function targetConnectionIdOf(connection: AepConnection): string {
  return connection.resource.getAttString(Attributes.TARGET_CONNECTION_ID);
}

/** AEP's `mode` for current S3 destination target connections (legacy ones used `S3`). */
const TARGET_MODE = 'Server-to-server';

const CSV_DELIMITERS: Record<CsvDelimiter, string> = {
  [CsvDelimiter.COMMA]: ',',
  [CsvDelimiter.TAB]: '\t',
  [CsvDelimiter.PIPE]: '|',
  [CsvDelimiter.SEMICOLON]: ';',
  [CsvDelimiter.COLON]: ':',
};
const CSV_QUOTES: Record<CsvQuote, string> = {
  [CsvQuote.DOUBLE_QUOTE]: '"',
  [CsvQuote.NONE]: '',
};
const CSV_ESCAPES: Record<CsvEscape, string> = {
  [CsvEscape.BACKSLASH]: '\\',
  [CsvEscape.SINGLE_QUOTE]: "'",
};
const CSV_VALUES: Record<CsvValueRepresentation, string> = {
  [CsvValueRepresentation.NULL_TEXT]: 'null',
  [CsvValueRepresentation.QUOTED_EMPTY]: '""',
  [CsvValueRepresentation.EMPTY]: '',
};

/** Inputs of {@link s3DestinationTargetParams}, already validated. */
export interface S3TargetParamsInput {
  readonly bucketName: string;
  readonly path: string;
  readonly exportType: ExportType;
  readonly fileType?: ExportFileType;
  readonly datasetFileType?: DatasetFileType;
  readonly compression: Compression;
  readonly csvOptions?: CsvOptions;
  readonly includeFileManifest?: boolean;
}

/**
 * The `params` of an S3 destination target connection: `fileType` for
 * audiences or `datasetFileType` for datasets (never both), `csvOptions` only for CSV.
 * Booleans are strings here (contract serialization rule); the handler decodes them.
 */
export function s3DestinationTargetParams(input: S3TargetParamsInput): { [key: string]: unknown } {
  const params: { [key: string]: unknown } = {
    mode: TARGET_MODE,
    bucketName: input.bucketName,
    path: input.path,
    compression: input.compression,
  };
  if (input.exportType === ExportType.DATASETS) {
    params.datasetFileType = input.datasetFileType ?? DatasetFileType.JSON;
  } else {
    const fileType = input.fileType ?? ExportFileType.CSV;
    params.fileType = fileType;
    if (fileType === ExportFileType.CSV && input.csvOptions) {
      const csv: { [key: string]: string } = {};
      const o = input.csvOptions;
      if (o.delimiter !== undefined) csv.delimiter = CSV_DELIMITERS[o.delimiter];
      if (o.quote !== undefined) csv.quote = CSV_QUOTES[o.quote];
      if (o.escape !== undefined) csv.escape = CSV_ESCAPES[o.escape];
      if (o.nullValue !== undefined) csv.nullValue = CSV_VALUES[o.nullValue];
      if (o.emptyValue !== undefined) csv.emptyValue = CSV_VALUES[o.emptyValue];
      if (Object.keys(csv).length > 0) params.csvOptions = csv;
    }
  }
  if (input.includeFileManifest !== undefined) params.includeFileManifest = input.includeFileManifest ? 'true' : 'false';
  return params;
}
