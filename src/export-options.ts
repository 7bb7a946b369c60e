/**
 * What AEP exports to the destination: audiences (segments) or datasets. The same connection spec serves
 * both; the target connection carries `fileType` for audiences and `datasetFileType` for datasets.
 */
export enum ExportType {
  /** Audience (segment) exports: profiles of activated audiences, dataflow spec `1a0514a6…`. */
  AUDIENCES = 'AUDIENCES',
  /** Dataset exports from the data lake, dataflow spec `269ba276…`. */
  DATASETS = 'DATASETS',
}

/** File format of audience exports (`fileType`). */
export enum ExportFileType {
  /** Comma- (or otherwise) delimited text; see {@link CsvOptions}. */
  CSV = 'CSV',
  /** JSON lines. */
  JSON = 'JSON',
  /** Apache Parquet. */
  PARQUET = 'PARQUET',
}

/** File format of dataset exports (`datasetFileType`). */
export enum DatasetFileType {
  /** JSON lines. */
  JSON = 'JSON',
  /** Apache Parquet. */
  PARQUET = 'PARQUET',
}

/** Compression AEP applies to exported files. */
export enum Compression {
  /** Files are written uncompressed. */
  NONE = 'NONE',
  /** Files are gzip-compressed. */
  GZIP = 'GZIP',
}

/** Field delimiter of CSV exports. */
export enum CsvDelimiter {
  /** `,` (AEP's default). */
  COMMA = 'COMMA',
  /** A tab character. */
  TAB = 'TAB',
  /** `|`. */
  PIPE = 'PIPE',
  /** `;`. */
  SEMICOLON = 'SEMICOLON',
  /** `:`. */
  COLON = 'COLON',
}

/** Quote character of CSV exports. */
export enum CsvQuote {
  /** `"`. */
  DOUBLE_QUOTE = 'DOUBLE_QUOTE',
  /** No quote character (AEP's "null character", sent as an empty string). */
  NONE = 'NONE',
}

/** Escape character of CSV exports. */
export enum CsvEscape {
  /** `\` (AEP's default). */
  BACKSLASH = 'BACKSLASH',
  /** `'`. */
  SINGLE_QUOTE = 'SINGLE_QUOTE',
}

/** How a CSV export writes a null value or an empty value. */
export enum CsvValueRepresentation {
  /** The text `null`. */
  NULL_TEXT = 'NULL_TEXT',
  /** Two double quotes: `""`. */
  QUOTED_EMPTY = 'QUOTED_EMPTY',
  /** Nothing between the delimiters. */
  EMPTY = 'EMPTY',
}

/**
 * Formatting of CSV exports (the target connection's `csvOptions`). Only allowed with
 * `ExportFileType.CSV`. Unset fields are not sent, so AEP applies its own defaults.
 */
export interface CsvOptions {
  /**
   * Field delimiter.
   *
   * @default - AEP's default (`,`)
   */
  readonly delimiter?: CsvDelimiter;

  /**
   * Quote character.
   *
   * @default - AEP's default
   */
  readonly quote?: CsvQuote;

  /**
   * Escape character.
   *
   * @default - AEP's default (`\`)
   */
  readonly escape?: CsvEscape;

  /**
   * How null values are written.
   *
   * @default - AEP's default (`null`)
   */
  readonly nullValue?: CsvValueRepresentation;

  /**
   * How empty values are written.
   *
   * @default - AEP's default (empty)
   */
  readonly emptyValue?: CsvValueRepresentation;
}
