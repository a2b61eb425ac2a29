import type { ChildProcess } from 'node:child_process';
import type { Json } from '@duckdb/node-api';
import type { QueryResult, QueryStream } from './query-types.ts';

/** What a job's caller is handed: an answer, a stream's columns, or the error before either. */
export type Outcome =
  | { type: 'result'; result: QueryResult }
  | { type: 'columns'; columns: QueryStream['columns'] }
  | { type: 'failed'; error: Error };

export interface Job {
  /** Settles with the answer, the stream's columns, or the error before either. */
  settle(outcome: Outcome): void;
  queryId: string | undefined;
  /** cancel(id) came before the job reached the engine's process. */
  cancelled?: boolean;
  /** A JSON answer's rows, as they come. */
  rows: Json[][];
  /** A stream's chunks, and the end or the error after them, as they come. */
  chunks: Array<IteratorResult<Json[][]> | Error>;
  wake?: () => void;
  stop?: AbortController;
  /** Ends the job's read lease, taken when it was sent to the engine's process. */
  endLease?: () => void;
  /** Its answer, its columns or its error went to the caller. */
  settled?: boolean;
  /** The process it was last sent to. */
  running?: Running;
  /** Sends it to a process (again, after a crash, with the WAL segments retiring then). */
  dispatch?: (running: Running) => void;
  /** Its caller's signal: its client gone. */
  signal?: AbortSignal;
  /** It was run once more after a process ended under it beside other queries (runAgain). */
  retried?: boolean;
  /** Told when it is forgotten, or a stream's columns came: runAgain's next query may go. */
  onSent?: () => void;
  /** It waits in runAgain's line, in no process: a cancel or its client gone fails it there and then. */
  inLine?: boolean;
  /** Ends its wait for queries run again after a crash, when it is cancelled or its client goes. */
  stopWaiting?: () => void;
  /** Stops listening to its caller's signal: a stream's, once its consumer is done. */
  unlisten?: () => void;
  /** What is left of its time limit, when it waited for queries run again after a crash (waitForRunAgain). */
  timeLeft?: number;
}

export interface Running {
  child: ChildProcess;
  startedAt: number;
  /** Why the server stopped it (its memory), when it did. */
  killedFor?: string;
  /** Its data is limited (RLIMIT_DATA). */
  limited?: boolean;
  /** The data limit set on it: the cap's, plus the address space it held at rest but not in memory. */
  dataLimit?: number;
  /** Its data when the watch last read it. */
  dataSeen?: number;
  /** Its resident memory once its engine was up, before any query. */
  atRest?: number;
  /** Since when, idle, it has held more than RECYCLE.aboveBytes over atRest. */
  aboveSince?: number;
  /** The server ended it, idle, for the memory it kept: a fresh one took its place. */
  recycled?: boolean;
  /** When it last sent anything (an answer to a ping included), or was given its first query after idling. */
  heardAt: number;
  /** When it was last asked to answer. */
  pingedAt?: number;
  /** The server ended it for answering nothing, with queries in flight, for this long. */
  silentFor?: number;
  /** The server ended it for a query that was stopped and that DuckDB did not let go of: that job, and why it was stopped. */
  stuck?: { job: number; error: Error };
  /** The server ended it for an error of DuckDB's INTERNAL or FATAL kind: its first line. */
  fault?: string;
}
