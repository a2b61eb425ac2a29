import type { Json } from '@duckdb/node-api';
import type { InletConfig } from '../config/index.ts';
import { type ErrorCode, InletError } from '../errors/index.ts';
import type { DataLayout, MovedFile } from '../lake/index.ts';
import type { QueryColumn, QueryResult } from './query-types.ts';

/** A query's options as they cross to the engine's process: a row limit's name is text, not a function. */
export interface WireQueryOptions {
  maxRows?: number;
  maxBytes?: number;
  /** What is left of query.timeout_ms, where the query waited before it was sent (see QueryOptions). */
  timeoutMs?: number;
  /** rowLimit(rows) for the row counts a note may name (the query's max_rows, and 0). */
  rowLimitNames?: Array<[number, string]>;
  everyRow?: string;
  jsonText?: boolean;
}

/** An error as it crosses between the processes: an InletError keeps its code. */
export type WireError =
  | { code: ErrorCode; message: string; details?: Record<string, unknown>; retryAfterSeconds?: number }
  | { code?: undefined; message: string };

/** From the server to the engine's process. */
export type ToEngine =
  | {
      type: 'init';
      config: InletConfig;
      layout: DataLayout;
      stuckMs?: number;
      aloneWaitMs?: number;
      timeoutName?: string;
    }
  | {
      type: 'query' | 'stream';
      job: number;
      sql: string;
      opts: WireQueryOptions;
      /** WAL segments the server's loader has loaded and will delete: the events view leaves them out. */
      retiring: string[];
    }
  /** One more chunk of a stream may be sent. */
  | { type: 'pull'; job: number }
  /** The query's client went away, or it was cancelled. */
  | { type: 'abort'; job: number }
  /** The stream's consumer is done with it: the query may end and give up its slot. */
  | { type: 'release'; job: number }
  /** Answer with a pong: the server checks the process still answers while queries run in it. */
  | { type: 'ping' };

/** From the engine's process to the server. */
export type FromEngine =
  | { type: 'ready' }
  | { type: 'pong' }
  | { type: 'init-failed'; error: WireError }
  /** Rows of a JSON answer, a slice at a time, before its result (which then holds none). */
  | { type: 'rows'; job: number; rows: Json[][] }
  | { type: 'result'; job: number; result: QueryResult }
  | { type: 'failed'; job: number; error: WireError }
  | { type: 'columns'; job: number; columns: QueryColumn[] }
  | { type: 'chunk'; job: number; rows: Json[][] }
  | { type: 'end'; job: number }
  | { type: 'chunk-failed'; job: number; error: WireError }
  | { type: 'stopped'; job: number; error: WireError }
  /** The job was stopped (its time limit, a cancel) and DuckDB has not let go of it: end this process. */
  | { type: 'stuck'; job: number; error: WireError }
  /** The job failed with DuckDB's INTERNAL or FATAL kind of error (isDuckDBFault): end this process. */
  | { type: 'fault'; job: number; error: WireError }
  /** The job is over in the engine (its slot is free). */
  | { type: 'done'; job: number }
  | { type: 'damaged-file'; moved: MovedFile; detail: string }
  | { type: 'file-race'; detail: string }
  /** A query that ran out of query.memory_limit beside others runs once more, alone: the server logs it. */
  | { type: 'run-alone'; job: number; error: WireError }
  | { type: 'view-failed'; name: string; detail: string };

export function toWire(error: unknown): WireError {
  if (error instanceof InletError)
    return {
      code: error.code,
      message: error.message,
      ...(error.details && { details: error.details }),
      ...(error.retryAfterSeconds !== undefined && { retryAfterSeconds: error.retryAfterSeconds }),
    };
  return { message: error instanceof Error ? error.message : String(error) };
}

export function fromWire(wire: WireError): Error {
  if (wire.code === undefined) return new Error(wire.message);
  return new InletError(wire.code, wire.message, {
    details: wire.details,
    retryAfterSeconds: wire.retryAfterSeconds,
  });
}

/**
 * DuckDB's kinds of error for a failed assertion inside it (INTERNAL) and for a database it gave up
 * on (FATAL): after either it may answer no query ("database has been invalidated") until it is
 * started again. DuckDB's message leads the error, or is its cause where inlet's words lead.
 */
export function isDuckDBFault(error: unknown): boolean {
  const duckdb = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  return /^(?:INTERNAL|FATAL) Error: /.test(String((duckdb as Error | undefined)?.message));
}

/** DuckDB's words for a query refused because an earlier one's fault invalidated the database. */
export const INVALIDATED = /database has been invalidated because of a previous fatal error/;

/**
 * Node's own words when this process's memory limit refused it memory, as it handed rows over
 * ("Data cannot be cloned, out of memory."): the query's error, not a fault of the server.
 */
export function shortOfMemory(error: unknown): unknown {
  if (error instanceof InletError || !/out of memory/i.test(String((error as Error)?.message))) return error;
  return new InletError(
    'QUERY_OUT_OF_MEMORY',
    `The query engine's process ran out of the memory it may hold (${(error as Error).message.trim()}) as it handed this query's rows over. Ask for fewer rows (max_rows) or narrower columns, or export them as CSV (?format=csv, streamed a few thousand rows at a time); queries running at the same time share that memory, so it may pass alone.`,
  );
}
