/** @module sql: SQL text as DuckDB's tokenizer reads it, for what looks at people's SQL before DuckDB does. */
export { sqlCode, withoutTrailingSemicolons } from './sql-code.ts';
