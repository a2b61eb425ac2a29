import { existsSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { sameTimeZone, timeZoneToWrite } from '../config/index.ts';
import { InletError } from '../errors/index.ts';
import { sqlString } from '../lake/index.ts';
import { withoutTrailingSemicolons } from '../sql/index.ts';
import type { BuildEngine } from './build-engine.ts';
import { uniqueKey } from './model-config.ts';
import { asSubquery } from './model-template.ts';
import type { ProjectNode } from './project-node.ts';
import { matchColumn, quoteColumn, quoteName } from './sql-names.ts';
import { linkPartitions, partitionDirs } from './table-versions.ts';

/** How one build writes: a view, the whole table, some dt partitions, or new rows merged by key. */
export type BuildMode = 'view' | 'full' | 'partitions' | 'merge';

export interface Window {
  from: string;
  to: string;
}

export const FULL_WINDOW: Window = { from: '1900-01-01', to: '9999-12-31' };

/** The value of a dt partition that holds a day. */
export const DAY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Row groups of up to 122,880 rows and at most 32 MB each. DuckDB holds a row group a thread while
 * it writes: a table mart of 600,000 rows of ~600 bytes peaked at +578 MB (default 1 GB limit) with
 * 122,880-row groups, +329 MB and twice as fast with the cap (docs/benchmarks.md). A model with an
 * ORDER BY keeps its order, and then its full row groups.
 */
const PARQUET = "FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880, ROW_GROUP_SIZE_BYTES '32MB'";

/** dt partitions are by date; a model written that way must say which date each row belongs to. */
export const partitionedByDt = (node: ProjectNode) =>
  node.config.materialized === 'incremental' && uniqueKey(node.config) === undefined;

/** Column names and types of a SELECT, from DuckDB's binder, without running it. */
export async function describeSelect(engine: BuildEngine, sql: string): Promise<Map<string, string>> {
  const rows = await engine.rows(`DESCRIBE SELECT * FROM ${asSubquery(sql)}`);
  return new Map(rows.map((row) => [String(row.column_name), String(row.column_type)]));
}

/**
 * Makes a SELECT readable by name on this connection without running it, until dropTempView: a
 * temporary view, in front of any view over the lake of that name. The catalog describes a model not
 * built yet that reads another so.
 */
export async function createTempView(engine: BuildEngine, name: string, sql: string): Promise<void> {
  await engine.connection.run(
    `CREATE OR REPLACE TEMP VIEW ${quoteName(name)} AS SELECT * FROM ${asSubquery(sql)}`,
  );
}

/** Drops what createTempView made, so the view over the lake of that name (once built) is read again. */
export async function dropTempView(engine: BuildEngine, name: string): Promise<void> {
  await engine.connection.run(`DROP VIEW IF EXISTS temp.main.${quoteName(name)}`);
}

/**
 * Fails when the SELECT outputs two columns of one name (in any case): read as a table, DuckDB
 * renames the second a_1, and the mart was published with a column nobody wrote.
 */
export async function checkColumnNames(engine: BuildEngine, node: ProjectNode, sql: string): Promise<void> {
  let rows: Awaited<ReturnType<BuildEngine['rows']>>;
  try {
    // The query itself, not SELECT * FROM it, which has already renamed them.
    rows = await engine.rows(`DESCRIBE ${withoutTrailingSemicolons(sql)}\n`);
  } catch {
    return;
  }
  const byName = new Map<string, string[]>();
  for (const row of rows) {
    const name = String(row.column_name);
    byName.set(name.toLowerCase(), [...(byName.get(name.toLowerCase()) ?? []), name]);
  }
  const twice = [...byName.values()].filter((names) => names.length > 1);
  if (twice.length === 0) return;
  throw new InletError(
    'MODEL_INVALID',
    `${node.name} outputs more than one column named ${twice.map((names) => `${names[0]} (${names.join(', ')})`).join(' and ')}, which DuckDB would rename a_1 and so on; give each its own name with AS.`,
  );
}

/** Fails when an incremental model lacks the columns its increments are keyed on. */
export function checkIncrementalColumns(node: ProjectNode, columns: Map<string, string>): void {
  if (node.config.materialized !== 'incremental') return;
  const key = uniqueKey(node.config);
  if (key) {
    const absent = key.filter((column) => matchColumn(columns.keys(), column) === undefined);
    if (absent.length > 0)
      throw new InletError(
        'MODEL_INVALID',
        `${node.name}: unique_key names ${absent.join(', ')}, which the SELECT does not output.`,
      );
  } else if (columns.get('dt') !== 'DATE') {
    // Its partitions are folders named dt=…, which every reader of the lake looks for in lower case.
    const other = matchColumn(columns.keys(), 'dt');
    throw new InletError(
      'MODEL_INVALID',
      other !== undefined && other !== 'dt'
        ? `${node.name} is incremental by partition, and its partitions are by a column named dt in lower case; it outputs ${other}, so write AS dt.`
        : `${node.name} is incremental by partition, so it must output a dt column of type DATE (it has ${columns.has('dt') ? columns.get('dt') : 'none'}); or set unique_key to merge by key instead.`,
    );
  }
}

/**
 * Fails when an incremental build would add rows of another shape to the published table: the
 * parts carried over keep the old columns, so a renamed column would come out as two half-empty ones.
 */
export function checkSameColumns(
  node: ProjectNode,
  published: Map<string, string>,
  built: Map<string, string>,
): void {
  const shape = (columns: Map<string, string>) => [...columns].map(([name, type]) => `${name} ${type}`);
  const before = shape(published);
  const after = shape(built);
  if (before.length === after.length && before.every((column) => after.includes(column))) return;
  throw new InletError(
    'MODEL_INVALID',
    `${node.name}: its columns changed since it was published (now ${after.join(', ')}; published ${before.join(', ')}), and an incremental build keeps the published rows as they are. Run inlet run ${node.name} --full-refresh to rebuild it whole.`,
  );
}

/**
 * Fails a model that uses the time zone when what it builds on was built in another one: its own
 * published rows (kept by an incremental build, so days before the change would stay in the old
 * zone's days beside new ones in the new zone, and one day's rows be counted under two), or a
 * model it reads (a view such as stg_events holds the zone in its SQL until it is built again). A
 * manifest that records no zone (built before inlet recorded it) is not checked.
 */
export function checkTimezones(
  node: ProjectNode,
  timezone: string,
  own: string | undefined,
  inputs: Array<[name: string, timezone: string | undefined]>,
): void {
  const rebuild = (old: string) =>
    `Run inlet run +${node.name} --full-refresh to rebuild it and what it reads whole in ${timezone} (what their inputs no longer hold, such as events past retention, is then lost), or set timezone back to ${timeZoneToWrite(old)}.`;
  if (own !== undefined && !sameTimeZone(own, timezone))
    throw new InletError(
      'MODEL_INVALID',
      `${node.name}: its published rows were built in time zone ${own} and timezone is now ${timezone}, and an incremental build keeps the published rows as they are. ${rebuild(own)}`,
    );
  const stale = inputs.find(([, zone]) => zone !== undefined && !sameTimeZone(zone, timezone));
  if (stale)
    throw new InletError(
      'MODEL_INVALID',
      `${node.name}: it reads ${stale[0]}, built in time zone ${stale[1]}, and timezone is now ${timezone}. ${rebuild(stale[1] ?? '')}`,
    );
}

/**
 * Fails when rows share a unique_key: a merge keeps every row it is given, so two new rows for one
 * key were both published, and stayed side by side through every later merge.
 */
async function checkKeyUnique(engine: BuildEngine, node: ProjectNode, relation: string): Promise<void> {
  const key = uniqueKey(node.config) ?? [];
  const columns = key.map(quoteColumn).join(', ');
  const [twice] = await engine.rows(
    `SELECT ${key.map((k, i) => `${quoteColumn(k)}::VARCHAR AS k${i}`).join(', ')}, count(*)::BIGINT AS n ` +
      `FROM ${relation} GROUP BY ${columns} HAVING count(*) > 1 LIMIT 1`,
  );
  if (!twice) return;
  const values = key.map((_, i) => (twice[`k${i}`] === null ? 'NULL' : String(twice[`k${i}`])));
  const list = (items: string[]) => (items.length === 1 ? items[0] : `(${items.join(', ')})`);
  throw new InletError(
    'MODEL_INVALID',
    `${node.name} outputs ${twice.n} rows for unique_key ${list(key)} = ${list(values)}, and new rows replace old ones by that key; make the SELECT output one row per key (GROUP BY it, or QUALIFY row_number() OVER (PARTITION BY ${key.join(', ')} ORDER BY …) = 1).`,
  );
}

const hasFiles = (dir: string): boolean =>
  existsSync(dir) &&
  readdirSync(dir, { withFileTypes: true }).some(
    (entry) => entry.name.endsWith('.parquet') || (entry.isDirectory() && hasFiles(join(dir, entry.name))),
  );

/**
 * Writes one build into a staging directory and returns the partitions it wrote (for dt models).
 * The table keeps a schema even when empty: an empty result still writes one file with no rows.
 */
export async function writeStaging(options: {
  engine: BuildEngine;
  node: ProjectNode;
  sql: string;
  mode: Exclude<BuildMode, 'view'>;
  window: Window;
  staging: string;
  current: string | undefined;
  /**
   * Keep the current version of a day in the window that the build outputs no row for, as dbt's
   * insert_overwrite does: a scheduled run. A backfill of days asked for replaces each of them.
   */
  keepDaysNotOutput?: boolean;
}): Promise<string[]> {
  const { engine, node, mode, window, staging, current } = options;
  const select = asSubquery(options.sql);
  const run = (sql: string) => engine.connection.run(sql);
  if (partitionedByDt(node)) {
    const inWindow = (dt: string) => dt >= window.from && dt <= window.to;
    // Rows with a NULL dt are kept in, so an incremental run refuses them as a full build does
    // (below) rather than drop them in silence: no window holds them.
    const filter =
      mode === 'partitions'
        ? ` WHERE dt BETWEEN DATE ${sqlString(window.from)} AND DATE ${sqlString(window.to)} OR dt IS NULL`
        : '';
    await run(
      `COPY (SELECT * FROM ${select} AS model${filter}) TO ${sqlString(staging)} ` +
        `(${PARQUET}, PARTITION_BY (dt), WRITE_PARTITION_COLUMNS true, FILENAME_PATTERN 'part_{i}', OVERWRITE_OR_IGNORE true)`,
    );
    const written = partitionDirs(staging).map((p) => p.slice(3));
    // DuckDB files a NULL dt under dt=__HIVE_DEFAULT_PARTITION__, a partition no window ever reaches.
    if (written.some((dt) => !DAY.test(dt)))
      throw new InletError(
        'MODEL_INVALID',
        `${node.name} outputs rows whose dt is NULL, and an incremental model by dt keeps each row in the partition of its day; leave them out (WHERE dt IS NOT NULL) or give them a day.`,
      );
    if (mode === 'partitions' && current) {
      const output = new Set(written);
      linkPartitions(
        current,
        staging,
        (dt) => !inWindow(dt) || (options.keepDaysNotOutput === true && !output.has(dt)),
      );
    }
    if (!hasFiles(staging))
      await run(
        `COPY (SELECT * FROM ${select} AS model LIMIT 0) TO ${sqlString(join(staging, 'empty.parquet'))} (${PARQUET})`,
      );
    return written;
  }
  const target = sqlString(join(staging, 'data.parquet'));
  if (mode === 'merge') {
    // New rows win over old rows with the same key; the rest of the old table is carried over.
    const key = uniqueKey(node.config) ?? [];
    const same = key
      .map((k) => `n.${quoteColumn(k)} IS NOT DISTINCT FROM old.${quoteColumn(k)}`)
      .join(' AND ');
    await run(`CREATE OR REPLACE TEMP TABLE __increment AS SELECT * FROM ${select} AS model`);
    try {
      await checkKeyUnique(engine, node, '__increment');
      await run(
        `COPY (SELECT * FROM __increment UNION ALL BY NAME SELECT * FROM ${quoteName(node.name)} AS old ` +
          `WHERE NOT EXISTS (SELECT 1 FROM __increment AS n WHERE ${same})) TO ${target} (${PARQUET})`,
      );
    } finally {
      await run('DROP TABLE IF EXISTS __increment');
    }
    return [];
  }
  await run(`COPY (SELECT * FROM ${select} AS model) TO ${target} (${PARQUET})`);
  // The written file, not the SELECT again: a model may be slow, or read what changes meanwhile.
  if (node.config.materialized === 'incremental')
    await checkKeyUnique(engine, node, `read_parquet(${target})`);
  return [];
}

/**
 * The SELECT that loads a seed: a comma-separated CSV file with a header, as dbt's seeds are, types
 * detected by DuckDB. The dialect is fixed: left to guess, DuckDB read a file with an unterminated
 * quote as one column named "id,name" and built it without a word. So is where the header is.
 */
export function seedSql(node: ProjectNode, typed = true): string {
  const entries = typed ? Object.entries(node.config.column_types) : [];
  const types =
    entries.length > 0
      ? `, types = {${entries.map(([column, type]) => `${sqlString(column)}: ${sqlString(type)}`).join(', ')}}`
      : '';
  // skip = 0: left to find where the table starts, DuckDB passed over a header narrower than every
  // row under it (a,b over 1,2,3) and took the first row for the header, a row lost without a word.
  return `SELECT * FROM read_csv(${sqlString(node.path)}, header = true, auto_detect = true, skip = 0, delim = ',', quote = '"', escape = '"'${types})`;
}

/**
 * Fails when a seed's header names a column twice (in any case: to DuckDB id and ID are one name) or
 * leaves one unnamed, or there is none: DuckDB published them as ID_1 and column2, columns nobody wrote.
 */
export async function checkSeedHeader(engine: BuildEngine, node: ProjectNode): Promise<void> {
  const [header] = await engine.rows(
    `SELECT * FROM read_csv(${sqlString(node.path)}, header = false, all_varchar = true, delim = ',', quote = '"', escape = '"') LIMIT 1`,
  );
  // An empty file was built as one column named column0, which nobody wrote.
  if (!header)
    throw new InletError(
      'MODEL_INVALID',
      `${node.path}: the file is empty; a seed needs a header row naming its columns (feature,description), and its rows under it.`,
    );
  const names = Object.values(header).map((value) => (value === null ? '' : String(value)));
  const blank = names.findIndex((name) => name.trim() === '');
  if (blank !== -1 && names.length > 1)
    throw new InletError(
      'MODEL_INVALID',
      `${node.path}: field ${blank + 1} of its header is empty, so the column has no name; give it one in the header row.`,
    );
  const seen = new Map<string, string>();
  for (const name of names) {
    const other = seen.get(name.toLowerCase());
    if (other !== undefined)
      throw new InletError(
        'MODEL_INVALID',
        `${node.path}: its header names the column ${other === name ? name : `${other} (and ${name})`} twice, and column names match whatever their case; give each column its own name.`,
      );
    seen.set(name.toLowerCase(), name);
  }
}

/** Where a seed's column_types are written, for errors to name. */
const typesFile = (node: ProjectNode) => node.configFile ?? node.path.replace(/\.csv$/, '.yaml');

/**
 * Fails, naming the seed's YAML, when column_types names a column the CSV lacks or a type DuckDB
 * does not know: DuckDB's own errors name neither the file nor, for a type, the column.
 */
export async function checkSeedTypes(engine: BuildEngine, node: ProjectNode): Promise<void> {
  const entries = Object.entries(node.config.column_types);
  if (entries.length === 0) return;
  const columns = [...(await describeSelect(engine, seedSql(node, false))).keys()];
  const absent = entries.map(([column]) => column).filter((column) => !matchColumn(columns, column));
  if (absent.length > 0)
    throw new InletError(
      'MODEL_INVALID',
      `${typesFile(node)}: column_types names ${absent.join(', ')}, which ${basename(node.path)} has no column of; its columns are ${columns.join(', ')}.`,
    );
  // DuckDB reads zip and Zip as one column, so two types for it would leave one of them unused.
  const seen = new Map<string, string>();
  for (const [column] of entries) {
    const other = seen.get(column.toLowerCase());
    if (other !== undefined)
      throw new InletError(
        'MODEL_INVALID',
        `${typesFile(node)}: column_types names column ${matchColumn(columns, column)} twice (${other} and ${column}); column names match whatever their case, so give it once.`,
      );
    seen.set(column.toLowerCase(), column);
  }
  for (const [column, type] of entries) {
    const one = { ...node, config: { ...node.config, column_types: { [column]: type } } };
    try {
      await describeSelect(engine, seedSql(one));
    } catch (error) {
      const said = (error as Error).message.split('\n');
      const hint = said.find((line) => /Did you mean/.test(line))?.trim();
      throw new InletError(
        'MODEL_INVALID',
        `${typesFile(node)}: column_types: ${column}: "${type}" is not a DuckDB type (${hint ?? 'e.g. varchar, integer, bigint, double, decimal(10,2), date, timestamp, boolean'}).`,
      );
    }
  }
}

/** What to say when a value of a seed does not convert to the type column_types gives its column. */
export function seedConversionMessage(node: ProjectNode, message: string): string | undefined {
  const found =
    /CSV Error on Line: (\d+)[\s\S]*?converting column "(.*?)"\. Could not convert string "(.*?)" to '(.+?)'/.exec(
      message,
    );
  if (!found || !matchColumn(Object.keys(node.config.column_types), found[2] ?? '')) return undefined;
  const [, line, column, value, type] = found;
  return `${node.path} line ${line}: "${value}" in column ${column} is not a ${type}, as column_types in ${basename(typesFile(node))} has it; correct the value or the type.`;
}

/**
 * Fails when a seed came out as one column whose name holds another separator: with the dialect
 * fixed, a spreadsheet's semicolon- or tab-separated export reads as one column named "id;name".
 */
export function checkSeedColumns(node: ProjectNode, columns: Map<string, string>): void {
  const [header] = [...columns.keys()];
  const separator = columns.size === 1 ? [';', '\t', '|'].find((s) => header?.includes(s)) : undefined;
  if (separator === undefined) return;
  throw new InletError(
    'MODEL_INVALID',
    `${node.path}: its header "${header}" is one column with ${separator === '\t' ? 'a tab' : separator} in it; a seed is comma-separated, so export it as CSV with commas (or replace each ${separator === '\t' ? 'tab' : separator} with a comma).`,
  );
}

/** The view that reads a staging directory, so tests see a build before anyone else does. */
export function stagingViewSql(staging: string): string {
  return `SELECT * FROM read_parquet(${sqlString(join(staging, '**', '*.parquet'))}, hive_partitioning = false, union_by_name = true)`;
}
