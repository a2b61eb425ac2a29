import type { z } from 'zod';
import type { InletConfig } from '../config/index.ts';
import type { DataLayout } from '../lake/index.ts';
import type { Logger } from '../log/index.ts';
import type { Metrics } from '../metrics/index.ts';
import type { StateStore } from '../state/index.ts';

/** What a source gets to do its work: where the lake is, where to keep checkpoints, how to report. */
export interface SourceContext {
  config: InletConfig;
  layout: DataLayout;
  state: StateStore;
  logger: Logger;
  metrics: Metrics;
  /** Aborted when inlet stops or the user presses Ctrl-C; a source stops at a safe point. */
  signal: AbortSignal;
  /** Rows done so far (and the total when known), for the CLI's progress bar. */
  onProgress?: (rows: number, total?: number) => void;
  /**
   * Set by a caller that shows the error the sync fails with, which names every table that failed
   * (inlet sync prints it): each table's failure is then logged at debug, with an unforeseen
   * error's stack, rather than said twice.
   */
  showsFailures?: boolean;
  /**
   * Says a warning that stays true until someone acts on it (a symbolic link among a table's files),
   * given by a caller that syncs again and again in one process (a workflow's sync steps), which
   * says each one once: it was said at every sync, each hour of each day. Without it (inlet sync,
   * one sync a process) it is logged at each sync.
   */
  warnOnce?: (fields: Record<string, unknown>, message: string) => void;
}

export interface SyncResult {
  source: string;
  rows: number;
  /** notes: what a table's run has to say beside its rows (a file's lines held back, and why). */
  tables: Array<{ table: string; rows: number; notes?: string[] }>;
}

/** One configured source: a log tail, a database, a CSV export. */
export interface Source {
  name: string;
  type: string;
  /** Runs once now: a database copy, a file import, or a catch-up read of log files. */
  sync(context: SourceContext): Promise<SyncResult>;
  /** Follows the source continuously under `inlet start` (log tails); one-shot sources leave it out. */
  follow?(context: SourceContext): { stop(): Promise<void> };
  /**
   * The lake tables it writes that other sources may write too (a log source's access_logs), the
   * rows they hold ("access logs") and the option that names the table: sources may share a table
   * only with rows of one shape.
   */
  sharedTables?: ReadonlyArray<{ table: string; holds: string; option: string }>;
}

/** A kind of source (file, postgres, mysql, csv…): its options schema and how to build one. */
export interface SourceKind<Schema extends z.ZodType = z.ZodType> {
  /** Validates the options of one `sources:` entry (everything but name and type). */
  options: Schema;
  create(name: string, options: z.output<Schema>): Source;
}
