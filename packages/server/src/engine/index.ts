/** @module engine: the sandboxed DuckDB that runs people's SQL over views of the lake. */
export {
  createQueryEngine,
  type QueryColumn,
  type QueryEngine,
  type QueryResult,
  type QueryStats,
  type QueryStream,
  type RowLimit,
  timeoutMessage,
} from './query-engine.ts';
export { createQueryProcess, QUERY_PROCESS_ALLOWANCE_BYTES } from './query-process.ts';
export { keywordSources, prepareReadOnly } from './sandbox.ts';
export { parseSqlTree, unsafeTableFunction } from './sql-calls.ts';
export { logTableHint, tableGuess, withQuotedSchemaHint, withSqlHint } from './sql-hints.ts';
export {
  applyViews,
  discoverViews,
  FILE_RACE,
  failedViews,
  lakeTableSql,
  unavailableMessage,
  type ViewDefinition,
  viewStatements,
} from './views.ts';
export { createWalViewCheck, type WalViewCheck, type WalViewFile } from './wal-view-check.ts';
