import type { DuckDBConnection } from '@duckdb/node-api';
import { configFileName, type InletConfig } from '../config/index.ts';
import { InletError } from '../errors/index.ts';
import { damagedInside, sqlString } from '../lake/index.ts';
import { sqlCode } from '../sql/index.ts';
import { parseSqlTree, tableNames } from './sql-calls.ts';
import { withQueryHint } from './sql-hints.ts';
import { DAMAGED_INSIDE, FILE_RACE, NO_PERMISSION, noPermissionAdvice } from './view-apply.ts';

/** DuckDB's words when a query was refused memory, by its limit or by the system. */
export const OUT_OF_MEMORY = /^Out of Memory Error/;

/** Errors of a query that ran out of query.memory_limit, which the queries running at once share. */
export const sharedMemory = new WeakSet<InletError>();
export const ofMemoryLimit = (error: InletError) => {
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

/** DuckDB's allocator's own words when the system refuses it memory (not its buffer manager's limit). */
const BAD_ALLOCATION = /\(bad allocation\)/;

/**
 * Whether the file DuckDB did not find is one the query names itself (FROM '…/lake/x.parquet'): the
 * query's mistake, which was answered 503, files went away, retry, for a path that was never right.
 * A file of a view that went away meanwhile is a race, and the query is planned again.
 */
export async function namesMissingFile(
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
 * The errors a query fails with, in inlet's words, for DuckDB's: config and processLimit as the
 * engine has them (createQueryEngine), unavailable its views left out and why.
 */
export function createQueryFailures(options: {
  config: InletConfig;
  processLimit?: string;
  unavailable: Map<string, { message: string; damaged: boolean }>;
}) {
  const { config, unavailable } = options;

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

  return { unreadable, filesChanged, failed, failedHolding, leftOut };
}
