import { readFileSync } from 'node:fs';
import {
  type DuckDBConnection,
  type DuckDBPreparedStatement,
  type DuckDBResult,
  type DuckDBResultReader,
  type DuckDBValueConverter,
  type Json,
  ResultReturnType,
} from '@duckdb/node-api';
import { configFileName, type InletConfig } from '../config/index.ts';
import { InletError } from '../errors/index.ts';
import type { DataLayout } from '../lake/index.ts';
import {
  damagedInside,
  eventFiles,
  type MovedFile,
  moveDamagedFile,
  moveDamagedInside,
  moveForeignEventFiles,
  type ReadLeases,
  sqlString,
} from '../lake/index.ts';
import { sqlCode } from '../sql/index.ts';
import { closeDuckDB, openDuckDB } from './allocator.ts';
import { connectionRefused } from './connection-refusal.ts';
import { createQuerySlots } from './query-slots.ts';
import {
  createJsonParser,
  createValueConverter,
  tooDeepToConvert,
  typeName,
  withinDepth,
} from './result-values.ts';
import { prepareReadOnly } from './sandbox.ts';
import { stillSettingUp, type ViewBuild } from './set-up-wait.ts';
import { parseSqlTree, tableNames } from './sql-calls.ts';
import { withQueryHint } from './sql-hints.ts';
import {
  applyViews,
  DAMAGED_INSIDE,
  discoverViews,
  FILE_RACE,
  failedViews,
  NO_PERMISSION,
  noPermissionAdvice,
  unavailableMessage,
  viewStatements,
} from './views.ts';
import { createWalViewCheck } from './wal-view-check.ts';

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

// Bytes the process read through read(2), used as the query's bytes scanned; DuckDB's own profiling
// metrics are not reachable from the Node bindings. Approximate when queries overlap.
function bytesRead(): number {
  try {
    return Number(/rchar:\s*(\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** Waits for work of the engine's own (building the views) outside the query's time limit, within a bound of its own. */
type SetUp = <T>(work: Promise<T>) => Promise<T>;

/** A view's build found a damaged file and moved it: the query is planned again. */
class Healed extends Error {}

const stream = (prepared: DuckDBPreparedStatement) => prepared.stream();

/**
 * How long a query stopped by its time limit or a cancel may go on before it is taken for one DuckDB
 * cannot interrupt (a statement with expressions nested hundreds deep plans for tens of seconds, and
 * an interrupt reaches it only after): DuckDB lets go of a running query within milliseconds.
 */
export const STUCK_MS = 5_000;

/**
 * How long a query to run once more alone waits for the queries running to end. No query starts
 * while it waits, so a query that runs long beside it (an export whose client reads slowly holds its
 * slot up to query.timeout_ms) held every other up: past this it gives up, and the line goes on.
 */
export const ALONE_WAIT_MS = 5_000;

/**
 * How long a query waits for the engine's own set-up, the building of the views of the lake's tables
 * (which query.timeout_ms does not count: a lake of many files took longer to bind than a short time
 * limit, and a fresh engine's first query timed out before it began).
 */
export const SET_UP_MS = 60_000;

/**
 * What a query past query.timeout_ms fails with (inlet query puts --timeout-ms in its place);
 * configFile is the file that sets it (configFileName).
 */
export const timeoutMessage = (timeoutMs: number, configFile: string) =>
  `The query ran longer than query.timeout_ms (${timeoutMs} ms) and was stopped; narrow it (a date filter on dt helps), query a mart, or raise query.timeout_ms in ${configFile}.`;

/**
 * What a time-out (an error, or a note of rows cut at it) adds when the query waited waitedMs of its
 * limit, before it started, for queries run again after a crash (query-process.ts).
 */
export const waitedNote = (waitedMs: number) =>
  ` It waited ${Math.round(waitedMs)} ms of that, before it started, for queries run again after the query engine's process ended.`;

/** Runs nothing: for a statement whose columns, known once prepared, are all that is wanted. */
const planOnly = async () => undefined;

const NO_CHUNKS: AsyncIterable<Json[][]> = {
  [Symbol.asyncIterator]: () => ({ next: async () => ({ done: true, value: undefined }) }),
};

/** A streamed result that ended because it failed, not because it was read to the end. */
class StreamFailed extends Error {}

/**
 * The rows of a streamed result, chunk by chunk. DuckDB's Node bindings end a stream that fails
 * part-way exactly like one read to the end (both fetch NULL, and the error is not passed on), so
 * a result whose return type turned INVALID is a failure here, never a quietly shorter result.
 */
async function* streamedRows(
  result: DuckDBResult,
  convert: DuckDBValueConverter<Json>,
): AsyncGenerator<Json[][]> {
  const parseJson = createJsonParser(result.columnTypes());
  const names = result.columnNames();
  try {
    for await (const rows of result.yieldConvertedRows(convert))
      yield withinDepth(names, parseJson ? parseJson(rows) : rows);
  } catch (error) {
    throw tooDeepToConvert(error);
  }
  if (result.returnType === ResultReturnType.INVALID) throw new StreamFailed();
}

/** A row limit as a note names it, with its rows: "max_rows (1000 rows)". */
export type RowLimit = (rows: number) => string;

interface SizeLimit {
  /** Whether one more row keeps the JSON within the limit (always, without one). */
  fits(row: Json[]): boolean;
  /** The bytes of the last row that did not fit, or undefined. */
  refused(): number | undefined;
}

/**
 * Counts a result's JSON against maxBytes bytes. Bytes as sent, not characters: counted in
 * characters, an answer of Japanese text was three times the limit (a 100 MB cap let 313 MB
 * through, and the server held 1.3 GB to send it).
 */
function createSizeLimit(maxBytes: number | undefined): SizeLimit {
  let size = 0;
  let refused: number | undefined;
  return {
    fits(row) {
      if (maxBytes === undefined) return true;
      const bytes = Buffer.byteLength(JSON.stringify(row)) + 1;
      if (size + bytes > maxBytes) {
        refused = bytes;
        return false;
      }
      size += bytes;
      return true;
    },
    refused: () => refused,
  };
}

/**
 * What an answer of max_rows 0 says: its query was planned for the columns, never run, so it cannot
 * say whether rows were left out and is marked truncated rather than complete.
 */
const plannedOnlyNote = (rowLimit: RowLimit) =>
  `The answer stops at ${rowLimit(0)}: the query was planned for its columns and not run, so whether it has rows (or fails as it runs) is not known; ask for more rows to run it.`;

const megabytes = (bytes: number) => `${Math.round((bytes / 1024 / 1024) * 10) / 10} MB`;

/**
 * Why an answer holds fewer rows than its result: which limit stopped it, and what gets every row.
 * A single row past the byte limit answered no rows at all, with nothing to say why.
 */
function truncationNote(
  rows: number,
  maxRows: number,
  rowLimit: RowLimit,
  limit: SizeLimit,
  maxBytes?: number,
  whole = 'export the result as CSV (POST /api/query?format=csv, or inlet query --format csv)',
): string {
  const refused = limit.refused();
  if (refused === undefined || maxBytes === undefined)
    return `The answer stops at ${rowLimit(maxRows)}; ${whole}, or narrow the query.`;
  if (rows === 0)
    return `The first row alone is ${megabytes(refused)} of JSON, more than an answer may hold (${megabytes(maxBytes)}), so no row is answered; select fewer or narrower columns, or ${whole}.`;
  return `The answer stops after ${rows} rows, before its JSON passed ${megabytes(maxBytes)}; ${whole}, or select fewer or narrower columns.`;
}

/**
 * Column names made distinct (SELECT 1 a, 2 a gives a and a:1), so that NDJSON objects and
 * anything else keyed by name keep every column.
 */
function distinctNames(names: string[]): string[] {
  const given = new Set(names);
  const used = new Set<string>();
  return names.map((name) => {
    let distinct = name;
    for (let n = 1; used.has(distinct); n++) {
      distinct = `${name}:${n}`;
      if (given.has(distinct)) distinct = name;
    }
    used.add(distinct);
    return distinct;
  });
}

const OUT_OF_MEMORY = /^Out of Memory Error/;

/** Errors of a query that ran out of query.memory_limit, which the queries running at once share. */
const sharedMemory = new WeakSet<InletError>();
const ofMemoryLimit = (error: InletError) => {
  sharedMemory.add(error);
  return error;
};

const UNIT_BYTES: Record<string, number> = {
  bytes: 1,
  B: 1,
  KiB: 2 ** 10,
  MiB: 2 ** 20,
  GiB: 2 ** 30,
  TiB: 2 ** 40,
};
const ALLOCATION = /of size ([\d.]+) ?(\w+) \([\d.]+ ?\w+\/([\d.]+) ?(\w+) used\)/;

/**
 * Whether DuckDB's words ("failed to allocate data of size 16.0 MiB (48.8 MiB/61.0 MiB used)") leave
 * the query a chance alone: an allocation larger than the whole limit fits no better then.
 */
function mayFitAlone(message: string): boolean {
  const [, size, unit = '', limit, limitUnit = ''] = ALLOCATION.exec(message) ?? [];
  const bytes = (value: string | undefined, of: string) => Number(value) * (UNIT_BYTES[of] ?? Number.NaN);
  return !(bytes(size, unit) > bytes(limit, limitUnit));
}

/** A query under its id, across its runs (withMemory): cancel(id) reaches the run going on, or the next. */
interface Cancellable {
  /** cancel(id) was called. */
  cancelled: boolean;
  /** Stops the run going on, when one is. */
  stop?: () => void;
}

/** One run of a query in withConnection. */
interface Attempt {
  /**
   * It runs alone: the queries running end first, and none starts until it is done; still running
   * after ALONE_WAIT_MS, they leave it this error instead.
   */
  alone?: InletError;
  /** Set when it failed out of query.memory_limit while another query ran. */
  beside?: boolean;
}
/** DuckDB's allocator's own words when the system refuses it memory (not its buffer manager's limit). */
const BAD_ALLOCATION = /\(bad allocation\)/;

const FILE_RACE_RETRIES = 3;

/**
 * Whether the file DuckDB did not find is one the query names itself (FROM '…/lake/x.parquet'): the
 * query's mistake, which was answered 503, files went away, retry, for a path that was never right.
 * A file of a view that went away meanwhile is a race, and the query is planned again.
 */
async function namesMissingFile(
  connection: DuckDBConnection,
  sql: string,
  message: string,
): Promise<boolean> {
  const file = FILE_RACE.test(message) ? /"([^"]+)"/.exec(message)?.[1] : undefined;
  if (file === undefined) return false;
  const reader = await connection.runAndReadAll(`SELECT json_serialize_sql(${sqlString(sql)})::VARCHAR`);
  const tree = parseSqlTree(String(reader.getRows()[0]?.[0])) as { statements?: unknown };
  return [...tableNames(tree.statements)].includes(file);
}

/** Damaged files a query may move out of the lake before it gives up (each is one more attempt). */
const DAMAGED_FILES_PER_QUERY = 10;

/**
 * Every view to be built again at the next refresh, by a shape none has; the names stay, so one no
 * longer wanted is still dropped.
 */
const stale = (views: Map<string, string>) => new Map([...views.keys()].map((name) => [name, 'stale']));

/** DuckDB's words for a table a query names that has no view (schema-qualified, or not). */
const NO_SUCH_TABLE = /Table with name "?([^"!]+?)"? does not exist/;

const IDENTIFIER = '(?:"(?:[^"]|"")*"|[A-Za-z_][A-Za-z0-9_$]*)';
const DOTTED_NAME = new RegExp(String.raw`${IDENTIFIER}(?:\s*\.\s*${IDENTIFIER})*`, 'g');

/**
 * The dotted names (crm.customers, "CRM"."customers") a statement gives, lower-cased and unquoted,
 * that end in table; names in its strings and comments are only text.
 */
function namesEndingIn(sql: string, table: string): Set<string> {
  const names = new Set<string>();
  for (const [chain] of sqlCode(sql).matchAll(DOTTED_NAME)) {
    const parts = chain.match(new RegExp(IDENTIFIER, 'g')) ?? [];
    const plain = parts.map((part) =>
      (part.startsWith('"') ? part.slice(1, -1).replaceAll('""', '"') : part).toLowerCase(),
    );
    if (plain.at(-1) === table) names.add(plain.join('.'));
  }
  return names;
}

/**
 * The sandboxed engine for people's SQL: an in-memory DuckDB that reads only the lake and the WAL,
 * cannot write, attach, install, load or change settings, with memory, thread and time limits.
 */
export async function createQueryEngine(options: {
  config: InletConfig;
  layout: DataLayout;
  /**
   * Shared with this process's loader, so a segment a query may read is not deleted under it; in the
   * query engine's own process, the server's leases as each query's message carries them.
   */
  leases?: Pick<ReadLeases, 'begin' | 'retiring'>;
  /** Told of each damaged Parquet file a query found and moved out of the lake (see lake/damaged.ts). */
  onDamagedFile?: (moved: MovedFile, detail: string) => void;
  /** Told each time a query is planned again because a file it listed went away meanwhile. */
  onFileRace?: (detail: string) => void;
  /** Told when a query (its id, when it has one) that ran out of query.memory_limit beside other queries is to run once more, alone. */
  onRunAlone?: (error: InletError, id: string | undefined) => void;
  /** Told when a table's or view's view cannot be built and is left out (once until its error changes). */
  onViewFailed?: (name: string, detail: string) => void;
  /** What set the time limit, as a note names it: query.timeout_ms unless a caller's own (--timeout-ms). */
  timeoutName?: string;
  /** The row limit as a note names it, unless a query names its own (the API: which of max_rows set it): max_rows, or a caller's own (--max-rows). */
  rowLimit?: RowLimit;
  /** What limits the memory of this process, as a message names it, when something does (query-process.ts). */
  processLimit?: string;
  /** How long a stopped query may go on before its onStuck is told: STUCK_MS, unless a test says otherwise. */
  stuckMs?: number;
  /** How long a query to run once more alone waits for the others to end: ALONE_WAIT_MS, unless a test says otherwise. */
  aloneWaitMs?: number;
  /** How long a query waits for the views to be built: SET_UP_MS, unless a test says otherwise. */
  setUpMs?: number;
}) {
  const { config, layout } = options;
  // A database or CSV source's tables are the views <source>.<table>; a file source's rows go to the log tables.
  const schemaSources = config.sources
    .filter((source) => source.type !== 'file')
    .map((source) => source.name);
  const rowLimit = options.rowLimit ?? ((rows: number) => `max_rows (${rows} rows)`);
  const instance = await openDuckDB({
    autoload_known_extensions: 'false',
    autoinstall_known_extensions: 'false',
    threads: String(config.query.threads),
    memory_limit: config.query.memory_limit,
  });
  const admin = await instance.connect();
  // TimeZone belongs to the icu extension, so it can only be set once the instance is up; GLOBAL,
  // or only this connection would have it, not the one each query gets.
  await admin.run(`SET GLOBAL TimeZone = ${sqlString(config.timezone)}`);
  const convert = createValueConverter(config.timezone);
  await admin.run(
    `SET allowed_directories = [${[`${layout.lake}/`, `${layout.walEvents}/`].map(sqlString).join(', ')}]`,
  );
  await admin.run("SET temp_directory = ''");
  await admin.run('SET enable_external_access = false');
  await admin.run('SET lock_configuration = true');

  // View name → shape of the definition it was created from; rebuilt when files appear or change.
  let views = new Map<string, string>();
  /** Views left out because they failed to build: name → why they cannot be queried. */
  const unavailable = new Map<string, { message: string; damaged: boolean }>();
  /** Files of the lake read without fault when looking for one damaged inside (lake/damaged.ts). */
  const goodFiles = new Map<string, 'footer' | 'whole'>();
  /** Files of lake/events found to have the events table's keys (lake/foreign.ts). */
  const eventFilesChecked = new Set<string>();
  let refreshing: Promise<void> | undefined;
  /** How far the refresh under way is: what a query that gives up waiting for it is told. */
  let building: ViewBuild | undefined;
  // The WAL's records are in queries only with a good checksum, as in the lake.
  const walCheck = createWalViewCheck(layout.walEvents);
  /** heal(message) moves a damaged file the message names; true stops the refresh to plan again. */
  const refreshViews = async (heal: (message: string) => boolean) => {
    // Before the wait below: no refresh may start between that wait and its own start.
    const wal = await walCheck.files(options.leases?.retiring);
    // Another query's refresh failing is that query's to handle; this one looks again.
    while (refreshing) await refreshing.catch(() => undefined);
    const discover = () =>
      discoverViews(layout, {
        skipWal: options.leases?.retiring,
        dedupWindowHours: config.loader.dedup_window_hours,
        wal,
        configPath: config.configPath,
      });
    let wanted = discover();
    if (viewStatements(views, wanted).length === 0) return;
    const build: ViewBuild = {
      since: performance.now(),
      total: viewStatements(views, wanted).length,
      done: 0,
    };
    building = build;
    refreshing = (async () => {
      // A file of another table in a partition of events would show its rows with empty columns.
      const rows = async (sql: string) => (await admin.runAndReadAll(sql)).getRows();
      const foreign = await moveForeignEventFiles(layout, eventFiles(layout.events), rows, eventFilesChecked);
      for (const moved of foreign) options.onDamagedFile?.(moved, 'no event_id or received_at column');
      if (foreign.length > 0) wanted = discover();
      build.total = viewStatements(views, wanted).length;
      const reasons = new Map<string, { message: string; damaged: boolean }>();
      views = await applyViews(
        async (sql) => {
          await admin.run(sql);
          // A view that failed is dropped too, a statement more.
          build.done = Math.min(build.total, build.done + 1);
        },
        views,
        wanted,
        (view, error) => {
          if (heal(error.message)) throw new Healed(error.message);
          const message = unavailableMessage(view, error);
          if (unavailable.get(view.name)?.message !== message)
            options.onViewFailed?.(view.name, error.message);
          reasons.set(view.name, { message, damaged: DAMAGED_INSIDE.test(error.message) });
        },
      );
      // Views built this time, or no longer wanted, are available or gone; the rest failed before.
      for (const name of unavailable.keys()) if (!failedViews(views).includes(name)) unavailable.delete(name);
      for (const [name, message] of reasons) unavailable.set(name, message);
    })();
    try {
      await refreshing;
    } finally {
      refreshing = undefined;
      building = undefined;
    }
  };

  const unreadable = (error: unknown) => {
    const detail = (error as Error).message.split('\n')[0];
    return new InletError(
      'LAKE_UNREADABLE',
      damagedInside(detail) && !DAMAGED_INSIDE.test(detail)
        ? `A Parquet file of the lake is damaged inside (${detail}); queries that read it fail until it is moved out of the lake or restored from a backup.`
        : DAMAGED_INSIDE.test(detail)
          ? `A Parquet file of the lake is damaged inside and DuckDB does not say which (${detail}); queries of its table fail until it is moved out of the lake or restored from a backup. A file that is not Parquet at all is moved aside by itself.`
          : `The lake's tables cannot be read, so no query can run (${detail}); the log has the whole error.`,
      { cause: error },
    );
  };

  /** Files went away between listing and reading on every attempt: the lake is being rewritten. */
  const filesChanged = (message: string) =>
    new InletError(
      'QUERY_BUSY',
      `Files of the lake went away while the query read them (compaction or a loader replaced them: ${message.split('\n')[0]}); retry in a moment.`,
      { retryAfterSeconds: 1 },
    );

  /** DuckDB's error for a statement that failed as it ran. */
  const failed = (message: string, sql: string) => {
    if (FILE_RACE.test(message)) return filesChanged(message);
    const denied = NO_PERMISSION.exec(message)?.[1];
    if (denied !== undefined) return new InletError('LAKE_UNREADABLE', `${noPermissionAdvice(denied)}.`);
    // Refused by the engine's configuration as it ran (duckdb_extensions() lists a directory), as
    // prepareReadOnly refuses what is found while planning.
    if (/^Permission Error|disabled by configuration/.test(message))
      return new InletError(
        'QUERY_NOT_ALLOWED',
        `${message.split('\n')[0]}. Queries read only the lake's tables and views and cannot write, attach or change settings.`,
      );
    // DuckDB's allocator was refused memory, not its buffer manager: one value a single function
    // call makes, held outside memory_limit, passed what the process may take.
    if (OUT_OF_MEMORY.test(message) && BAD_ALLOCATION.test(message))
      return new InletError(
        'QUERY_OUT_OF_MEMORY',
        `The query needed more memory than ${options.processLimit ?? 'this process may hold'} and was stopped (${message.split('\n')[0]}). Most often one value a single function call makes (repeat, string_agg, array_to_string over a long list), which is held outside query.memory_limit: make such values smaller (less data per value), or raise query.memory_limit in ${configFileName(config)}. Queries running at the same time share that memory, so one that needs little may pass when retried.`,
      );
    if (OUT_OF_MEMORY.test(message)) {
      const error = new InletError(
        'QUERY_OUT_OF_MEMORY',
        `The query needed more memory than query.memory_limit (${config.query.memory_limit}) allows and was stopped (${message.split('\n')[0]}); narrow it (a filter on dt, fewer columns or groups) or raise query.memory_limit in ${configFileName(config)}.`,
      );
      return mayFitAlone(message) ? ofMemoryLimit(error) : error;
    }
    return new InletError('QUERY_INVALID', withQueryHint(message, sql));
  };

  /**
   * A streamed answer failed after `held` rows were in hand, and running it whole to learn why was
   * refused memory by the process's cap, which those rows count against as much as DuckDB's values.
   */
  const failedHolding = (message: string, sql: string, held: number) => {
    if (!(OUT_OF_MEMORY.test(message) && BAD_ALLOCATION.test(message))) return failed(message, sql);
    return new InletError(
      'QUERY_OUT_OF_MEMORY',
      `The query needed more memory than ${options.processLimit ?? 'this process may hold'} and was stopped (${message.split('\n')[0]}) with ${held.toLocaleString('en-US')} rows of its answer in hand, which are held outside query.memory_limit until they are sent, as is any one value a single function call makes (repeat, string_agg). Ask for fewer rows (max_rows) or narrower columns, or export them as CSV (?format=csv, streamed a few thousand rows at a time); make large values smaller, or raise query.memory_limit in ${configFileName(config)}.`,
    );
  };

  /** A query that names a view left out of the engine: why that view cannot be queried. */
  const leftOut = (error: Error, sql: string): InletError | undefined => {
    const named = NO_SUCH_TABLE.exec(error.message)?.[1]?.toLowerCase();
    if (named === undefined) return undefined;
    // DuckDB names the table without its schema (crm.customers and temp.customers are both
    // "customers"), so the names the query gives it decide which view it meant.
    const given = namesEndingIn(sql, named);
    for (const [name, { message, damaged }] of unavailable) {
      const lower = name.toLowerCase();
      const meant = [lower, `main.${lower}`, `memory.${lower}`, `memory.main.${lower}`];
      // Damage inside a file keeps its own code, as when a query finds it.
      if (named === lower || named === `main.${lower}` || meant.some((full) => given.has(full)))
        return new InletError(damaged ? 'LAKE_UNREADABLE' : 'TABLE_UNAVAILABLE', message, { cause: error });
    }
    return undefined;
  };

  /**
   * Waits for work up to setUpMs; stopped (a cancel, a client gone), the query waits no more. The
   * work goes on either way, for the next query.
   */
  const boundSetUp = <T>(work: Promise<T>, signal: AbortSignal) =>
    new Promise<T>((resolve, reject) => {
      const ms = options.setUpMs ?? SET_UP_MS;
      const bound = setTimeout(() => reject(stillSettingUp(ms, building)), ms);
      const stopped = () => reject(signal.reason);
      signal.addEventListener('abort', stopped, { once: true });
      if (signal.aborted) stopped();
      work.then(resolve, reject).finally(() => {
        clearTimeout(bound);
        signal.removeEventListener('abort', stopped);
      });
    });

  const running = new Map<string, () => void>();
  const slots = createQuerySlots(config.query.max_concurrent, configFileName(config));
  /** Queries that took a slot so far: one that began after a query did ran beside it. */
  let begun = 0;

  /** Runs fn with a fresh connection that a timeout, an abort signal or cancel(id) interrupts. */
  const withConnection = async <T>(
    opts: QueryOptions,
    fn: (
      connection: DuckDBConnection,
      stopped: () => InletError | undefined,
      stoppedSignal: AbortSignal,
      setUp: SetUp,
      ownMs: () => number,
    ) => Promise<T>,
    attempt: Attempt,
    cancellable: Cancellable,
  ): Promise<T> => {
    let reason: InletError | undefined;
    const place: { leave?: () => void } = {};
    // Cancelled while it waits for a slot: it leaves the line at once.
    cancellable.stop = () => {
      reason ??= new InletError('QUERY_CANCELLED', 'The query was cancelled.');
      place.leave?.();
    };
    if (cancellable.cancelled) cancellable.stop();
    // A client that went away while its query waited for a slot: it leaves the line too.
    const gone = () => {
      reason ??= new InletError('QUERY_CANCELLED', 'The query was cancelled.');
      place.leave?.();
    };
    opts.signal?.addEventListener('abort', gone);
    let waitedAlone: NodeJS.Timeout | undefined;
    const limitMs = opts.timeoutMs ?? config.query.timeout_ms;
    try {
      if (opts.signal?.aborted) gone();
      if (reason) throw reason;
      const { alone } = attempt;
      if (alone !== undefined)
        waitedAlone = setTimeout(() => {
          // Not in line (its turn came, and it resumes next): the slot is its own.
          if (place.leave === undefined) return;
          reason ??= alone;
          place.leave();
        }, options.aloneWaitMs ?? ALONE_WAIT_MS);
      await slots.acquire(place, {
        alone: alone !== undefined,
        limitMs,
      });
    } catch (error) {
      cancellable.stop = undefined;
      throw reason ?? error;
    } finally {
      clearTimeout(waitedAlone);
      opts.signal?.removeEventListener('abort', gone);
    }
    const endLease = options.leases?.begin();
    let connection: DuckDBConnection;
    try {
      connection = await instance.connect();
    } catch (error) {
      // The slot and the lease are given back here, as the finally below does once connected: kept,
      // a query.max_concurrent of 1 left every later query waiting in line for good.
      cancellable.stop = undefined;
      endLease?.();
      const refused = connectionRefused(error, slots.firstEnd(place));
      slots.release(place);
      throw refused;
    }
    const stop = new AbortController();
    let stuck: NodeJS.Timeout | undefined;
    const interrupt = (error: InletError) => {
      reason ??= error;
      connection.interrupt();
      stop.abort(reason);
      const told = reason;
      if (opts.onStuck && stuck === undefined)
        stuck = setTimeout(() => opts.onStuck?.(told), options.stuckMs ?? STUCK_MS);
    };
    // The time limit is the query's: it stands still while the query waits for the engine's set-up.
    let timeLeft = limitMs;
    let timer: NodeJS.Timeout | undefined;
    let since = 0;
    let settingUp = false;
    /** The query's own time so far, as its time limit counts it: its elapsed_ms. */
    const ownMs = () => limitMs - timeLeft + (settingUp ? 0 : performance.now() - since);
    const runClock = () => {
      since = performance.now();
      timer = setTimeout(
        () =>
          interrupt(
            new InletError('QUERY_TIMEOUT', timeoutMessage(config.query.timeout_ms, configFileName(config))),
          ),
        Math.max(0, timeLeft),
      );
    };
    runClock();
    const setUp: SetUp = async (work) => {
      clearTimeout(timer);
      timeLeft -= performance.now() - since;
      settingUp = true;
      try {
        return await boundSetUp(work, stop.signal);
      } finally {
        settingUp = false;
        runClock();
      }
    };
    const onAbort = () => interrupt(new InletError('QUERY_CANCELLED', 'The query was cancelled.'));
    opts.signal?.addEventListener('abort', onAbort);
    // Gone while this connection opened: the listener came too late to hear it.
    if (opts.signal?.aborted) reason ??= new InletError('QUERY_CANCELLED', 'The query was cancelled.');
    cancellable.stop = onAbort;
    const besideAtStart = slots.taken > 1;
    const mark = ++begun;
    try {
      if (reason) throw reason;
      return await fn(connection, () => reason, stop.signal, setUp, ownMs);
    } catch (error) {
      if (reason) throw reason;
      attempt.beside =
        error instanceof InletError &&
        sharedMemory.has(error) &&
        (besideAtStart || begun !== mark || slots.taken > 1);
      throw error;
    } finally {
      clearTimeout(timer);
      clearTimeout(stuck);
      opts.signal?.removeEventListener('abort', onAbort);
      cancellable.stop = undefined;
      // A streamed result left before its end (max_rows reached, a client gone) is still being
      // produced: closing the connection alone does not stop it, since the result, which DuckDB's
      // bindings leave to the garbage collector, keeps its context alive. The scan went on, a core
      // busy, and whenever the result was collected the main thread waited for the scan to end.
      connection.interrupt();
      // Nor does it free what that result holds against query.memory_limit (a GROUP BY's table):
      // held until the garbage collector came to the result, which V8 may put off for as long as
      // JavaScript allocates little, it failed the next queries with QUERY_OUT_OF_MEMORY though
      // nothing else ran. A statement on the connection ends the result at once.
      await connection.run('SELECT 1').catch(() => undefined);
      connection.closeSync();
      endLease?.();
      slots.release(place);
    }
  };

  /**
   * Runs fn as withConnection does. A query that ran out of query.memory_limit while other queries
   * ran, which share it, may have needed little: it is run once more, alone (those running end
   * first, and none starts until it is done), unless again() says it went too far for that (an
   * export that began to send its rows). Failing alone too, it needs more than the limit by itself.
   */
  const withMemory = async <T>(
    opts: QueryOptions,
    fn: Parameters<typeof withConnection<T>>[1],
    again: () => boolean = () => true,
  ): Promise<T> => {
    const { id } = opts;
    // Two queries under one id: the second took the first's entry, and on ending removed it, so
    // the first could no longer be cancelled.
    if (id !== undefined && running.has(id))
      throw new InletError(
        'INVALID_FIELD',
        `query_id: "${id}" is already running; give each query an id of its own (a UUID, say).`,
        { details: { field: 'query_id' } },
      );
    // The id is the query's until its last run ends: between its runs, a cancel found no query under
    // it (and another query could take it), and the query ran once more.
    const cancellable: Cancellable = { cancelled: false };
    let ranOut: InletError | undefined;
    if (id !== undefined)
      running.set(id, () => {
        cancellable.cancelled = true;
        cancellable.stop?.();
      });
    try {
      const first: Attempt = {};
      try {
        return await withConnection(opts, fn, first, cancellable);
      } catch (error) {
        if (!first.beside || !again()) throw error;
        ranOut = error as InletError;
        options.onRunAlone?.(ranOut, id);
        opts.onRunAlone?.(ranOut);
      }
      const seconds = (options.aloneWaitMs ?? ALONE_WAIT_MS) / 1000;
      const crowded = new InletError(
        ranOut.code,
        `${ranOut.message} It ran out beside other queries, which were still running ${seconds} s later, so it was not run once more alone (no query starts while one waits to); retry it in a moment, when fewer queries run.`,
        { cause: ranOut },
      );
      try {
        return await withConnection(opts, fn, { alone: crowded }, cancellable);
      } catch (error) {
        if (!(error instanceof InletError) || !sharedMemory.has(error)) throw error;
        throw new InletError(
          error.code,
          `${error.message} It ran out beside other queries first, and again when it was run once more alone, so it needs more than query.memory_limit by itself.`,
          { cause: error },
        );
      }
    } finally {
      if (id !== undefined) running.delete(id);
    }
  };

  /**
   * Prepares a statement and starts it with run (streamed, or not at all when no rows are wanted).
   * A cancel or timeout that lands while it is still being planned would interrupt nothing, so
   * stopped() is asked again once it runs, and interrupts it then.
   */
  const start = async <T>(
    connection: DuckDBConnection,
    sql: string,
    stopped: () => InletError | undefined,
    setUp: SetUp,
    run: (prepared: DuckDBPreparedStatement) => Promise<T>,
  ): Promise<{ prepared: DuckDBPreparedStatement; result: T }> => {
    let moved = 0;
    // Errors of damage inside a file that were looked into: each is looked into once a query.
    const searched = new Set<string>();
    const movedOut = (file: MovedFile, message: string) => {
      moved++;
      options.onDamagedFile?.(file, message);
      views = stale(views);
      return true;
    };
    for (let attempt = 0; ; attempt++) {
      // A Parquet file of the lake that is not one (empty, cut short) fails every query of its
      // table, and the building of the views: it is moved aside and the query planned again.
      const healed = (message: string) => {
        if (moved >= DAMAGED_FILES_PER_QUERY) return false;
        const file = moveDamagedFile(layout, message);
        return file !== undefined && movedOut(file, message);
      };
      // One damaged inside (its metadata or pages) too, once reading it alone shows which it is.
      const toSearch = (message: string) =>
        moved < DAMAGED_FILES_PER_QUERY && damagedInside(message) && !searched.has(message);
      const healedInside = async (message: string) => {
        if (!toSearch(message)) return false;
        searched.add(message);
        const file = await moveDamagedInside(layout, message, (sql) => connection.run(sql), goodFiles);
        // Not found, the view that failed is built again and left out with the reason.
        views = stale(views);
        return file !== undefined && movedOut(file, message);
      };
      // A file went between listing and reading: a WAL segment the loader of another process
      // loaded and deleted (the rows are in the lake now), or Parquet files compaction merged.
      // DuckDB finds out when it binds the views or the query, or when its scan opens the file;
      // planned again a moment later, the query sees the files that replaced them.
      const raced = async (message: string) => {
        if (attempt >= FILE_RACE_RETRIES || !FILE_RACE.test(message)) return false;
        options.onFileRace?.(message);
        views = stale(views);
        // A deletion still under way in the other process would be listed again at once.
        await new Promise((resolve) => setTimeout(resolve, 20 * (attempt + 1)));
        return true;
      };
      try {
        await setUp(refreshViews((message) => healed(message) || toSearch(message)));
      } catch (error) {
        const message = (error as Error).message;
        if (error instanceof Healed) {
          await healedInside(message);
          continue;
        }
        if (healed(message) || (await raced(message))) continue;
        // Already says what is wrong, and what to do (a file where lake/_rejects/damaged should be).
        if (error instanceof InletError) throw error;
        throw FILE_RACE.test(message) ? filesChanged(message) : unreadable(error);
      }
      const prepared = await prepareReadOnly(connection, sql, schemaSources).catch(async (error: Error) => {
        if (await namesMissingFile(connection, sql, error.message)) throw error;
        if (healed(error.message) || (await raced(error.message))) return undefined;
        if (FILE_RACE.test(error.message)) throw filesChanged(error.message);
        // DuckDB works out a constant value while planning: array_to_string(range(300000000), ',').
        if (OUT_OF_MEMORY.test(error.message)) throw failed(error.message, sql);
        throw leftOut(error, sql) ?? error;
      });
      if (!prepared) continue;
      const early = stopped();
      if (early) throw early;
      try {
        const result = await run(prepared);
        if (stopped()) connection.interrupt();
        return { prepared, result };
      } catch (error) {
        const message = (error as Error).message;
        if (healed(message) || (await raced(message))) continue;
        if (message.includes('INTERRUPT')) throw error;
        if (toSearch(message) && (await healedInside(message))) continue;
        if (damagedInside(message)) throw unreadable(error);
        throw failed(message, sql);
      }
    }
  };

  /** The columns of a result, or of a prepared statement (known before it runs). */
  const columnsOf = (statement: DuckDBResult | DuckDBPreparedStatement): QueryColumn[] => {
    const names = Array.from({ length: statement.columnCount }, (_, i) => statement.columnName(i));
    return distinctNames(names).map((name, i) => ({ name, type: typeName(statement.columnType(i)) }));
  };

  return {
    /** Runs one read-only statement and returns up to maxRows rows. */
    query(sql: string, opts: QueryOptions = {}): Promise<QueryResult> {
      const maxRows = opts.maxRows ?? config.query.max_rows;
      const limitName = opts.rowLimit ?? rowLimit;
      return withMemory(opts, async (connection, stopped, _signal, setUp, ownMs) => {
        const readBefore = bytesRead();
        // No rows wanted: the columns, known once it is prepared, are the answer, as for an export
        // (stream()). A JSON answer of max_rows 0 waited on DuckDB's first chunk until it timed out.
        if (maxRows === 0) {
          const { prepared } = await start(connection, sql, stopped, setUp, planOnly);
          return {
            columns: columnsOf(prepared),
            rows: [],
            stats: {
              elapsed_ms: Math.round(ownMs()),
              rows: 0,
              bytes_scanned: bytesRead() - readBefore,
              truncated: true,
              note: plannedOnlyNote(limitName),
            },
          };
        }
        // Nothing is sent before the whole result is in hand, so a query whose files went away
        // part-way through its rows is planned and run again from the start, as one whose files
        // went before its first rows is (start()); a read-only statement runs again harmlessly.
        for (let replanned = 0; ; replanned++) {
          const { prepared, result } = await start(connection, sql, stopped, setUp, stream);
          const answer = (rows: Json[][], truncated: boolean, note: string | undefined): QueryResult => ({
            columns: columnsOf(result),
            rows,
            stats: {
              elapsed_ms: Math.round(ownMs()),
              rows: rows.length,
              bytes_scanned: bytesRead() - readBefore,
              truncated,
              ...(note !== undefined && { note }),
            },
          });
          let rows: Json[][] = [];
          let truncated = false;
          let limit = createSizeLimit(opts.maxBytes);
          try {
            for await (const chunk of streamedRows(result, convert)) {
              for (const row of chunk) {
                if (rows.length >= maxRows || !limit.fits(row)) {
                  truncated = true;
                  break;
                }
                rows.push(row);
              }
              if (truncated) break;
            }
          } catch (error) {
            const reason = stopped();
            // Every row asked for was in hand, and the query timed out finding whether one more
            // follows (DuckDB may hold it back until its scan is done): the rows are the answer.
            if (reason?.code === 'QUERY_TIMEOUT' && rows.length >= maxRows)
              return answer(
                rows,
                true,
                `The answer stops at ${limitName(maxRows)}; the query reached ${options.timeoutName ?? 'query.timeout_ms'} (${config.query.timeout_ms} ms) looking for more, so there may be none.${opts.timeoutMs === undefined ? '' : waitedNote(config.query.timeout_ms - opts.timeoutMs)}`,
              );
            if (!(error instanceof StreamFailed)) throw error;
            if (reason) throw reason;
            // Run once more whole: a materialized result reports DuckDB's error, or holds the rows
            // when the failure was passing.
            let whole: DuckDBResultReader;
            try {
              whole = await prepared.runAndReadAll();
            } catch (rerun) {
              const message = (rerun as Error).message;
              if (message.includes('INTERRUPT')) throw rerun;
              if (FILE_RACE.test(message) && replanned < FILE_RACE_RETRIES) {
                options.onFileRace?.(message);
                views = stale(views);
                await new Promise((resolve) => setTimeout(resolve, 20 * (replanned + 1)));
                continue;
              }
              throw rows.length > 0 ? failedHolding(message, sql, rows.length) : failed(message, sql);
            }
            const parseJson = createJsonParser(whole.columnTypes());
            let converted: Json[][];
            try {
              converted = whole.convertRows(convert);
            } catch (error) {
              throw tooDeepToConvert(error);
            }
            const all = withinDepth(whole.columnNames(), parseJson ? parseJson(converted) : converted);
            limit = createSizeLimit(opts.maxBytes);
            const fitting = all.slice(0, maxRows).findIndex((row) => !limit.fits(row));
            rows = all.slice(0, fitting === -1 ? maxRows : fitting);
            truncated = rows.length < all.length;
          }
          return answer(
            rows,
            truncated,
            truncated
              ? truncationNote(rows.length, maxRows, limitName, limit, opts.maxBytes, opts.everyRow)
              : undefined,
          );
        }
      });
    },
    /**
     * Runs one read-only statement and hands its rows over chunk by chunk, for CSV export; none at
     * all with maxRows 0 (a larger maxRows is the consumer's to keep to).
     */
    async stream<T>(
      sql: string,
      opts: QueryOptions,
      consume: (stream: QueryStream) => Promise<T>,
    ): Promise<T> {
      // Its columns go out as it is consumed, its rows after them: only before then may it run again.
      let consumed = false;
      const consumeOnce = (stream: QueryStream) => {
        consumed = true;
        return consume(stream);
      };
      return withMemory(
        opts,
        async (connection, stopped, stoppedSignal, setUp) => {
          // No rows wanted: the columns, known once it is prepared, are all there is to send. DuckDB
          // starts a streamed result only once its first chunk is full or its scan is done, and an
          // export of no rows waited for that until it timed out.
          if (opts.maxRows === 0) {
            const { prepared } = await start(connection, sql, stopped, setUp, planOnly);
            return consumeOnce({ columns: columnsOf(prepared), chunks: NO_CHUNKS, stopped: stoppedSignal });
          }
          const { prepared, result } = await start(connection, sql, stopped, setUp, stream);
          const rows = streamedRows(result, convert);
          // The first chunk before anything is sent, so a query that fails early (most do) gets a
          // 400; one that fails later throws from the chunks, and the export is cut off, not ended.
          // A failed stream says nothing of why (DuckDB's Node bindings drop a streamed result's
          // error): a cancel or a time-out is reported as such; for the rest, DuckDB's reason is found
          // by running the statement once more, materialized, which fails as the stream did (its
          // result, should the failure have been passing, is dropped unread).
          const why = async (error: unknown, cut: string, unknown: string): Promise<unknown> => {
            if (!(error instanceof StreamFailed)) return error;
            const reason = stopped();
            if (reason) return reason;
            try {
              await prepared.run();
            } catch (rerun) {
              const message = (rerun as Error).message;
              const stop = stopped();
              if (stop) return stop;
              if (!message.includes('INTERRUPT')) {
                const found = failed(message, sql);
                const error = new InletError(found.code, `${cut}${found.message}`, { cause: rerun });
                return sharedMemory.has(found) ? ofMemoryLimit(error) : error;
              }
            }
            return new InletError('QUERY_INVALID', unknown);
          };
          let first: IteratorResult<Json[][]>;
          try {
            first = await rows.next();
          } catch (error) {
            // Before any row went out: DuckDB's message alone, as a JSON query gets it.
            throw await why(
              error,
              '',
              'DuckDB stopped the query before its first rows without saying why, and again when it was run once more; run it again to see whether it fails the same way.',
            );
          }
          async function* chunks() {
            if (first.done) return;
            yield first.value;
            try {
              yield* rows;
            } catch (error) {
              const cut = 'The query failed part-way through its rows, so the export is incomplete';
              throw await why(
                error,
                `${cut}: `,
                `${cut}; run it again to see whether it fails the same way.`,
              );
            }
          }
          return consumeOnce({ columns: columnsOf(result), chunks: chunks(), stopped: stoppedSignal });
        },
        () => !consumed,
      );
    },
    /** Interrupts a running query by the id it was started with; false when no such query runs. */
    cancel(id: string): boolean {
      const cancel = running.get(id);
      cancel?.();
      return cancel !== undefined;
    },
    close() {
      admin.closeSync();
      closeDuckDB(instance);
    },
  };
}

export type QueryEngine = Awaited<ReturnType<typeof createQueryEngine>>;
