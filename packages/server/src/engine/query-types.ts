import type { Json } from '@duckdb/node-api';
import type { InletError } from '../errors/index.ts';
import type { RowLimit } from './answer-limits.ts';

export interface QueryColumn {
  name: string;
  type: string;
}

export interface QueryStats {
  elapsed_ms: number;
  rows: number;
  bytes_scanned: number;
  truncated: boolean;
  /** Why the rows stop short, and what gets them all; only when truncated. */
  note?: string;
}

export interface QueryResult {
  columns: QueryColumn[];
  rows: Json[][];
  stats: QueryStats;
}

export interface QueryOptions {
  /** Lets a caller cancel the query later with cancel(id). */
  id?: string;
  maxRows?: number;
  /** Rows stop (truncated) before their JSON would pass this many bytes (UTF-8). */
  maxBytes?: number;
  /**
   * Its time limit, where it is less than query.timeout_ms: what is left of it after the query waited
   * in the query engine's process's server for queries run again after a crash (query-process.ts).
   */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** The row limit as this query's note names it, where it differs from the engine's (see createQueryEngine). */
  rowLimit?: RowLimit;
  /** How this query's note says to get every row, where it differs from the API's (an export as CSV). */
  everyRow?: string;
  /**
   * JSON columns' values as their JSON text rather than parsed, for CSV and tables, which write a
   * JSON value so: parsed, a JSON null is null as SQL NULL is, and a JSON string loses its quotes.
   */
  jsonText?: boolean;
  /**
   * Told when the query was stopped (its time limit, a cancel) and DuckDB has still not let go of it
   * the engine's stuckMs later: planning a statement with very deep or very many expressions does
   * not stop when interrupted. The query engine's process is then ended (query-process.ts).
   */
  onStuck?: (reason: InletError) => void;
  /** Told, as the engine's onRunAlone is, when this query ran out of query.memory_limit beside others and runs once more, alone. */
  onRunAlone?: (error: InletError) => void;
}

export interface QueryStream {
  columns: QueryColumn[];
  chunks: AsyncIterable<Json[][]>;
  /**
   * Aborted, with the InletError as its reason, when the query reaches its time limit or is
   * cancelled: a consumer waiting on its reader (a client that stopped reading) must stop then,
   * since no chunk will come to tell it.
   */
  stopped: AbortSignal;
}
