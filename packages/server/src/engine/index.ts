/** @module engine: the sandboxed DuckDB that runs people's SQL over views of the lake. */
export type { RowLimit } from './answer-limits.ts';
export { createQueryEngine, type QueryEngine, timeoutMessage } from './query-engine.ts';
export { OUT_OF_MEMORY } from './query-failures.ts';
export { createQueryProcess, QUERY_PROCESS_ALLOWANCE_BYTES } from './query-process.ts';
export type { QueryColumn, QueryResult, QueryStats, QueryStream } from './query-types.ts';
export { keywordSources, prepareReadOnly } from './sandbox.ts';
export { parseSqlTree, unsafeTableFunction } from './sql-calls.ts';
export { logTableHint, tableGuess, withQuotedSchemaHint, withSqlHint } from './sql-hints.ts';
export { applyViews, FILE_RACE, failedViews, unavailableMessage, viewStatements } from './view-apply.ts';
export { lakeTableSql } from './view-sql.ts';
export { discoverViews, type ViewDefinition } from './views.ts';
export { createWalViewCheck, type WalViewCheck, type WalViewFile } from './wal-view-check.ts';
