/**
 * @module sources/extractor: what database and file sources share — copying a table into
 * lake/sources/<source>/<table>/ in full, incremental or merge mode, crash-safely, through a
 * dedicated DuckDB that writes the Parquet.
 */
export {
  type ColumnPlan,
  duplicateColumn,
  JSON_FROM_TEXT,
  NUMERIC_TEXT_ORDER,
  TIME_TEXT_ORDER,
} from './column-plan.ts';
export {
  createDatabaseSource,
  type DatabaseTableDriver,
  databaseTableJob,
  quotedTableName,
  tableQuery,
} from './database-job.ts';
export {
  type DatabaseOptions,
  type DatabaseTable,
  databaseOptionsSchema,
  sourceMemoryLimit,
} from './database-options.ts';
export { createParquetWriter, type ParquetWriter } from './parquet-writer.ts';
export { describeUrl, redactSecrets, safeMessage } from './redact.ts';
export { syncCancelled, syncDatabase, syncTables } from './source-sync.ts';
export { copyCsvStream } from './spool-copy.ts';
export { checkTableColumns, cursorCondition } from './table-columns.ts';
export { type TableDocs, tableDocs } from './table-docs.ts';
export { type DriverFailure, tableSyncError } from './table-errors.ts';
export {
  checkModeOptions,
  checkUniqueNames,
  deriveTableName,
  type SyncMode,
  type TableTarget,
  tableModeFields,
  tableTarget,
} from './table-options.ts';
export { cursorOrder, positionAfter, type TableJob, type TableRun } from './table-sync.ts';
