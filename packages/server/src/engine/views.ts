import { createHash } from 'node:crypto';
import { type Dirent, existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { configFileName, DUCKDB_SCHEMAS, type InletConfig } from '../config/index.ts';
import { EVENT_COLUMNS } from '../events/index.ts';
import {
  DAMAGED_INSIDE,
  type DamagedManifest,
  type DataLayout,
  eventFiles,
  hasParquetFiles,
  type LakeTable,
  lakeEntries,
  listLakeTables,
  MERGE_FILE_COLUMN,
  mergeOrderSql,
  NO_PERMISSION,
  noPermissionAdvice,
  parquetLinks,
  partitionFiles,
  partitions,
  sqlString,
  TABLE_MANIFEST,
  tableOfFolder,
  walReadSql,
} from '../lake/index.ts';
import { listSegments, segmentPath } from '../wal/index.ts';
import { escapeRegExp } from './sql-hints.ts';
import type { WalViewFile } from './wal-view-check.ts';

export interface ViewDefinition {
  /** The view's name, possibly schema-qualified. */
  name: string;
  /** Changes whenever the SQL must be rebuilt. */
  shape: string;
  sql: string;
  /** Defined by SQL (a model's view), not over files of the lake. */
  definedBySql?: boolean;
  /** Why it is never created: its name is not one a view of the lake can have. */
  refused?: string;
  /**
   * The names, sizes and times of the files it reads, which its SQL may not name (a glob): asked
   * only of a view that failed to build, to know whether to try it again.
   */
  files?: () => string;
}

/**
 * The names, sizes and modification times of every file under a table's folder (those being
 * written, under a name that starts with a dot, left out): it changes whenever a file the table's
 * view reads could have.
 */
function filesKey(dir: string): string {
  const listed: string[] = [];
  const walk = (at: string) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(at, { withFileTypes: true });
    } catch {
      return; // removed meanwhile: the key differs from the last, and the view is tried again
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else
        try {
          const stats = statSync(path);
          listed.push(`${path}\t${stats.size}\t${stats.mtimeMs}`);
        } catch {
          // Gone between the listing and the stat.
        }
    }
  };
  walk(dir);
  return listed.sort().join('\n');
}

/** A column's name quoted whole: a source's column may hold a dot, which is no schema separator there. */
const quoteColumn = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** A view's name, possibly schema-qualified (crm.customers). */
const quoteName = (name: string) =>
  name
    .split('.')
    .map((part) => `"${part.replaceAll('"', '""')}"`)
    .join('.');

const HOUR_MS = 3_600_000;

/**
 * A time no WAL record can be older than, minus the dedup window, floored to the hour; undefined
 * when the WAL is empty. As a literal in the view, it lets DuckDB skip every Parquet row group
 * received before it (min/max statistics), so deduplicating the WAL against the lake reads only
 * recent row groups instead of every event id ever received.
 */
function walLowerBound(dir: string, windowHours: number): string | undefined {
  if (!existsSync(dir)) return undefined;
  let oldest = Number.POSITIVE_INFINITY;
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.log')) continue;
    try {
      const stat = statSync(join(dir, name));
      // A segment's records arrived after it was created; without a birth time, an hour of margin
      // covers a segment's life (it is sealed after seconds).
      oldest = Math.min(oldest, stat.birthtimeMs > 0 ? stat.birthtimeMs : stat.mtimeMs - HOUR_MS);
    } catch {
      // Loaded and deleted between the listing and the stat.
    }
  }
  if (oldest === Number.POSITIVE_INFINITY) return undefined;
  const bound = Math.floor((oldest - windowHours * HOUR_MS - HOUR_MS) / HOUR_MS) * HOUR_MS;
  return new Date(bound).toISOString();
}

const EMPTY_EVENTS = `SELECT ${EVENT_COLUMNS.map(([name, type]) => `NULL::${type} AS "${name}"`).join(', ')} WHERE false`;

/**
 * The events view over the Parquet lake and the WAL segments not loaded yet. Both halves name their
 * files, listed here, rather than globs: the lake's rows and the check that leaves out WAL rows the
 * lake holds must read the same files. With globs, DuckDB listed each scan's files on its own, so a
 * segment's file the loader published between the two listings was in the check but not in the
 * rows, and a query that ran while the loader drained a backlog missed that segment's events. The
 * view's shape is its SQL, so it is built again whenever a file comes or goes. Segments skipWal
 * names (loaded, and retired for deletion: their rows are in the lake) are left out, so a query
 * never lists a file that is deleted before the scan reaches it.
 */
export function eventsView(
  layout: DataLayout,
  dedupWindowHours = 48,
  skipWal: (path: string) => boolean = () => false,
  wal?: WalViewFile[],
): ViewDefinition {
  const lakeFiles = eventFiles(layout.events);
  const walFiles = (
    wal ??
    listSegments(layout.walEvents).map((segment) => ({
      path: segmentPath(layout.walEvents, segment),
      leaveOut: [],
    }))
  ).filter((file) => !skipWal(file.path));
  const bound = walFiles.length > 0 ? walLowerBound(layout.walEvents, dedupWindowHours) : undefined;
  const files = `read_parquet([${lakeFiles.map(sqlString).join(', ')}], hive_partitioning=true, hive_types={'dt': 'DATE'}, union_by_name=true)`;
  const lakeSql =
    lakeFiles.length > 0
      ? `SELECT * REPLACE (properties::JSON AS properties, context::JSON AS context) FROM ${files}`
      : EMPTY_EVENTS;
  if (!bound) return { name: 'events', shape: lakeSql, sql: lakeSql };
  // Rows still in the WAL, once each, minus any the lake already holds (a segment loaded but not yet
  // deleted, or a client retry whose first copy was loaded earlier). The lake side is a separate,
  // narrow scan so DuckDB reads three columns of recent row groups, not whole files.
  const walSql = `SELECT * FROM (${walReadSql(
    walFiles.map((file) => file.path),
    true,
    walFiles.flatMap((file) => file.leaveOut),
  )}) QUALIFY row_number() OVER (PARTITION BY site, event_id ORDER BY received_at) = 1`;
  const seen =
    lakeFiles.length > 0
      ? ` WHERE (site, event_id) NOT IN (SELECT site, event_id FROM ${files} WHERE received_at >= ${sqlString(bound)}::TIMESTAMPTZ)`
      : '';
  const sql = `${lakeSql} UNION ALL BY NAME SELECT * FROM (${walSql})${seen}`;
  return { name: 'events', shape: sql, sql };
}

/**
 * The files of a table, as read_parquet's first argument. Hive-partitioned tables (log tables) are
 * listed file by file, as the events view is, so a compaction's inputs are left out from the moment
 * its merged file appears (partitionFiles); a glob saw both until the inputs were removed, and
 * counted their rows twice. The view's shape is its SQL, so it is built again when files change.
 */
function tableFilesSql(dir: string, pattern: string): string {
  if (pattern !== PARTITIONED_FILES) return globWithoutLinks(dir, pattern);
  const listed = partitions(dir).flatMap((partition) =>
    partitionFiles(join(dir, partition)).map((file) => file.path),
  );
  return listed.length > 0 ? `[${listed.map(sqlString).join(', ')}]` : sqlString(join(dir, pattern));
}

const PARTITIONED_FILES = 'dt=*/*.parquet';

/**
 * A glob of a table's files (a source's part-*.parquet or files-<n>/part-*.parquet, a mart's
 * <version>/** glob of *.parquet), or the files it matches listed one by one when a symbolic link is among
 * them: DuckDB's glob takes links in, and the engine may read no file outside the lake, so a link
 * there made the table's view fail (the sync or build that writes the table names it).
 */
function globWithoutLinks(dir: string, pattern: string): string {
  const glob = sqlString(join(dir, pattern));
  const at = pattern.lastIndexOf('/');
  const folders = pattern.slice(0, at + 1);
  // A mart's ** takes in every folder under its version (its dt= partitions), and none that is a link.
  const deep = folders.endsWith('**/');
  const fixed = deep ? folders.slice(0, -3) : folders;
  const folder = join(dir, fixed);
  const name = pattern.slice(at + 1);
  if (/[*?[]/.test(fixed) || parquetLinks(folder, deep).length === 0) return glob;
  const matches = new RegExp(`^${name.split('*').map(escapeRegExp).join('[^/]*')}$`);
  const files = lakeEntries(folder, deep)
    .filter(({ entry }) => entry.isFile() && !entry.name.startsWith('.') && matches.test(entry.name))
    .map(({ path }) => path);
  return files.length > 0 ? `[${files.map(sqlString).join(', ')}]` : glob;
}

/** The SELECT that reads one manifest-described table. */
export function lakeTableSql(dir: string, table: LakeTable): string {
  const options = table.hive_partitioning
    ? ", hive_partitioning=true, hive_types={'dt': 'DATE'}"
    : ', hive_partitioning=false';
  const files = `read_parquet(${tableFilesSql(dir, table.files)}${options}, union_by_name=true`;
  if (!table.merge) return `SELECT * FROM ${files})`;
  const key = table.merge.key.map(quoteColumn).join(', ');
  // Versions with the same cursor value (a merge run reads the last one again): the one copied last
  // wins, by its file's name (part-<run>-…, runs zero-padded). The name is read under a column name of
  // its own: a table's own column named filename would take the place of DuckDB's.
  // Versions in one file, by their place in it, where no column of the table hides DuckDB's.
  const row = table.merge.row_order ? 'file_row_number' : undefined;
  const latest =
    `SELECT * EXCLUDE (${MERGE_FILE_COLUMN}${row ? `, ${row}` : ''}) FROM ${files}, filename=${sqlString(MERGE_FILE_COLUMN)}${row ? `, ${row}=true` : ''})` +
    ` QUALIFY row_number() OVER (PARTITION BY ${key} ORDER BY ${mergeOrderSql(table.merge, quoteColumn)} DESC, ${MERGE_FILE_COLUMN} DESC${row ? `, ${row} DESC` : ''}) = 1`;
  return table.merge.deleted_column
    ? `SELECT * FROM (${latest}) WHERE ${quoteColumn(table.merge.deleted_column)} IS NULL`
    : latest;
}

/**
 * Why a table's view cannot have its name: a source named as one of DuckDB's own schemas (from
 * before inlet.yaml refused one). main.marks replaced the view marks, and a schema named memory,
 * temp or system made every name the engine resolves ambiguous, so no query ran at all.
 */
function refusedName(name: string, configFile: string): string | undefined {
  const schema = name.includes('.') ? name.split('.')[0] : undefined;
  if (schema === undefined || !DUCKDB_SCHEMAS.has(schema)) return undefined;
  return `"${schema}" is a name DuckDB keeps for its own schemas, so no source's table can be the view ${name}; rename the source in ${configFile}, sync it again and move lake/sources/${schema}/ out of the lake`;
}

/**
 * A name two tables of the lake have (a log source's table: named as a mart): either view replaced
 * the other's, and queries read the one or the other without a word. Neither is created.
 */
function sameName(name: string, dirs: string[], configFile: string): ViewDefinition {
  const refused = `two tables of the lake are named ${name}: ${dirs.join(' and ')}; rename one (a log source's table: in ${configFile}, or a model) and move the other's folder out of the lake`;
  return { name, shape: `refused:${refused}`, sql: '', refused };
}

/**
 * A table whose _table.json is damaged, under the name its folder gives (marts/<name>,
 * sources/<source>/<table> as <source>.<table>, <name> for a log table): it vanished without a
 * word, and a query of it was told the table did not exist yet.
 */
function damagedManifest(lakeRoot: string, { dir, reason }: DamagedManifest): ViewDefinition {
  const { name } = tableOfFolder(lakeRoot, dir);
  const refused = `its manifest ${join(dir, TABLE_MANIFEST)} cannot be read (${reason}); build or copy the table again (inlet run for a model, inlet sync <source> for a source's table; a log table's is written again with its next records) or restore the file from a backup`;
  return { name, shape: `refused:${refused}`, sql: '', refused };
}

/** Symbolic links named *.parquet among a table's files, at any depth, outside its temporaries (. and _ names). */
function tableLinks(dir: string): string[] {
  return parquetLinks(dir, true).filter(
    (link) =>
      !relative(dir, link)
        .split(sep)
        .some((part) => part.startsWith('.') || part.startsWith('_')),
  );
}

/**
 * A table whose only files are symbolic links, which no query reads (globWithoutLinks): it had no
 * view, and a query of it was told the table did not exist, as if never built or synced.
 */
function onlyLinks(name: string, links: string[]): ViewDefinition {
  const refused = `its only files are symbolic links, which inlet does not read (the query engine reads files inside the lake alone): ${links.join(', ')}; copy the files themselves into the lake in place of the links, or build or sync the table again (inlet run <model>, inlet sync <source>)`;
  return { name, shape: `refused:${refused}`, sql: '', refused };
}

/**
 * A source's table or a mart with its manifest and no file: a sync or build always leaves one, an
 * empty table too, so its files were taken away, as a query does with one that is not Parquet (to
 * lake/_rejects/damaged/). It had no view, and a query of it was told it did not exist, and the
 * catalog that its source had not synced it yet. (A log table's days may all go by retention.)
 */
function filesGone(lake: string, dir: string, table: LakeTable, configFile: string): ViewDefinition {
  const source = table.name.slice(0, table.name.indexOf('.'));
  const again =
    table.kind !== 'source'
      ? `build it again: inlet run ${table.name}`
      : table.files.startsWith('snapshot-')
        ? `copy it again: inlet sync ${source}`
        : `copy it again from the start: an incremental or merge table's sync goes on from its cursor, so set its mode: to full in ${configFile} for one inlet sync ${source}, then back (databases.md)`;
  const refused = `none of its files is left in lake/${relative(lake, dir)}: a file that was not readable Parquet is moved to lake/_rejects/damaged/ by the query that finds it, or one was removed by hand; put them back from a backup, or ${again}`;
  return { name: table.name, shape: `refused:${refused}`, sql: '', refused };
}

/**
 * Every view the engine should have now: events, each lake table that has files, then the views
 * defined by SQL. DuckDB binds a view when it is created, so those come last, in dependency order,
 * and only once every table they read exists.
 */
export function discoverViews(
  layout: DataLayout,
  options: {
    skipWal?: (path: string) => boolean;
    /**
     * The WAL segments to read, their checksums verified (wal-view-check.ts); without it, every
     * segment, unverified.
     */
    wal?: WalViewFile[];
    /** loader.dedup_window_hours: the view leaves out the WAL rows the loader will drop as repeats. */
    dedupWindowHours?: number;
    /** The file the configuration was read from, which a refused view's advice names (configFileName). */
    configPath?: InletConfig['configPath'];
  } = {},
): ViewDefinition[] {
  const configFile = configFileName({ configPath: options.configPath });
  const views = [eventsView(layout, options.dedupWindowHours, options.skipWal, options.wal)];
  let pending: LakeTable[] = [];
  const damaged: DamagedManifest[] = [];
  const tables = listLakeTables(layout.lake, damaged);
  const dirsNamed = new Map<string, string[]>();
  for (const { dir, table } of tables) dirsNamed.set(table.name, [...(dirsNamed.get(table.name) ?? []), dir]);
  for (const { dir, table } of tables) {
    const dirs = dirsNamed.get(table.name) ?? [];
    if (dirs.length > 1) {
      if (dir === dirs[0]) views.push(sameName(table.name, dirs, configFile));
      continue;
    }
    if (table.sql !== undefined) {
      pending.push(table);
      continue;
    }
    if (!hasParquetFiles(dir)) {
      const links = tableLinks(dir);
      if (links.length > 0) views.push(onlyLinks(table.name, links));
      else if (table.kind !== 'logs') views.push(filesGone(layout.lake, dir, table, configFile));
      continue;
    }
    const sql = lakeTableSql(dir, table);
    views.push({
      name: table.name,
      shape: sql,
      sql,
      files: () => filesKey(dir),
      refused: refusedName(table.name, configFile),
    });
  }
  for (const manifest of damaged) {
    const view = damagedManifest(layout.lake, manifest);
    if (!dirsNamed.has(view.name)) views.push(view);
  }
  const names = new Set(views.map((v) => v.name));
  for (let progress = true; progress; ) {
    progress = false;
    pending = pending.filter((table) => {
      if (!(table.depends_on ?? []).every((dep) => names.has(dep))) return true;
      views.push({ name: table.name, shape: table.sql ?? '', sql: table.sql ?? '', definedBySql: true });
      names.add(table.name);
      progress = true;
      return false;
    });
  }
  const unbuilt = new Set(pending.map((table) => table.name));
  for (const table of pending) views.push(inputGone(table, names, unbuilt));
  return views;
}

/**
 * A model's view whose inputs are not all in the lake (a mart deleted, as docs/models.md says to
 * remove one): it was left out without a word, as if never built, and a query was told it did not
 * exist. unbuilt: the other views left out so, which are in the lake but cannot be read either.
 */
function inputGone(
  table: LakeTable,
  names: ReadonlySet<string>,
  unbuilt: ReadonlySet<string>,
): ViewDefinition {
  const inputs = (table.depends_on ?? []).filter((dep) => !names.has(dep));
  const said = (gone: string[], why: string) =>
    gone.length > 0 ? [`${gone.join(', ')}, which ${gone.length > 1 ? 'are' : 'is'} ${why}`] : [];
  const reads = [
    ...said(
      inputs.filter((dep) => !unbuilt.has(dep)),
      'not in the lake',
    ),
    ...said(
      inputs.filter((dep) => unbuilt.has(dep)),
      'a view that cannot be read either',
    ),
  ];
  const refused = `it reads ${reads.join(', and ')}; build it again (inlet run +${table.name}), or move lake/marts/${table.name}/ out of the lake if no model makes it any more`;
  return { name: table.name, shape: `refused:${refused}`, sql: '', refused };
}

/**
 * DuckDB's words for a file that went away between a view's listing and its reading: a WAL segment
 * loaded and deleted, or Parquet files compaction merged. Not the table's fault: planned again.
 */
export const FILE_RACE = /No files found|Cannot open file(?!.*: Permission denied)|No such file/;

export { DAMAGED_INSIDE, NO_PERMISSION, noPermissionAdvice };

/** The shape of a view left out because it failed to build: never any definition's own shape. */
const FAILED = 'failed:';

/**
 * DuckDB's words for a failure of the moment, not of the view: memory other queries held, files the
 * process could not open then, an interrupt, or a damaged file a query moves out of the lake (up to
 * ten a query, so the next query moves the rest). Such a view is tried again at the next refresh.
 */
const PASSING_FAILURE =
  /^(Out of Memory Error|IO Error|INTERRUPT)|Interrupted|Too many open files|too small to be a Parquet file|No magic bytes found|Footer length error/m;

/**
 * What a view that failed to build is remembered by: its SQL, the files it reads, and for a view
 * defined by SQL, the views before it (what it may read). Until one of those changes it would fail
 * the same way, so it is not tried again: building a table's view reads the footer of each of its
 * files, and every query did that again for a table DuckDB refuses.
 */
function failedShapes(after: ViewDefinition[]): Map<string, string> {
  const shapes = new Map<string, string>();
  const before = createHash('sha256');
  for (const view of after) {
    const hash = view.definedBySql ? before.copy() : createHash('sha256');
    const files = view.files?.() ?? '';
    hash.update(`${view.shape}\0${files}`);
    shapes.set(view.name, `${FAILED}${hash.digest('hex')}`);
    before.update(`${view.name}\0${view.shape}\0${files}\0`);
  }
  return shapes;
}

/**
 * A view's failed shape by name, worked out at the first asking, and only when a view failed
 * before or fails now (always): every other refresh lists no table's files for it.
 */
function failedShapesOf(
  before: Map<string, string>,
  after: ViewDefinition[],
): (name: string, always?: boolean) => string | undefined {
  let shapes: Map<string, string> | undefined;
  const anyFailed = [...before.values()].some((shape) => shape.startsWith(FAILED));
  return (name, always = false) => {
    if (!anyFailed && !always) return undefined;
    shapes ??= failedShapes(after);
    return shapes.get(name);
  };
}

/** The names of views left out of a name → shape map because they failed to build. */
export function failedViews(applied: Map<string, string>): string[] {
  return [...applied].filter(([, shape]) => shape.startsWith(FAILED)).map(([name]) => name);
}

/** Why a view left out of the engine cannot be queried, and what to do about it. */
export function unavailableMessage(view: ViewDefinition, error: Error): string {
  if (view.refused !== undefined)
    return `"${view.name}" cannot be queried: ${view.refused}. Every other table can still be queried.`;
  const detail = (error.message.split('\n')[0] ?? '').replace(/\.$/, '');
  const denied = NO_PERMISSION.exec(detail)?.[1];
  if (denied !== undefined)
    return `"${view.name}" cannot be queried now: ${noPermissionAdvice(denied)}. Every other table can still be queried.`;
  if (DAMAGED_INSIDE.test(detail))
    return `"${view.name}" cannot be queried now: a Parquet file of it is damaged inside and DuckDB does not say which (${detail}); it fails until that file is moved out of the lake or restored from a backup. Every other table can still be queried.`;
  return view.definedBySql
    ? `"${view.name}" cannot be queried now: its SQL no longer runs over what it reads (${detail}). Every other table can still be queried; fix the model and run inlet run ${view.name} again.`
    : `"${view.name}" cannot be queried now: DuckDB cannot build its view over the table's files (${detail}). Every other table can still be queried. Check the table's files and its _table.json in the lake (a merge key, cursor or deleted column it names must be a column of the files), or sync or load it again; the log has the whole error.`;
}

/**
 * Brings a DuckDB's views from `before` to `after` through run() and returns the new name → shape
 * map. A view that fails to build (an upstream column went away, a manifest names a column its
 * files lack, files DuckDB refuses) is dropped and left out, so it is tried again next time, and
 * no other view or query suffers for it; failed() hears why, and may throw to stop everything
 * instead. A file that went away meanwhile (FILE_RACE) is no fault of the view: that throws.
 */
export async function applyViews(
  run: (sql: string) => Promise<unknown>,
  before: Map<string, string>,
  after: ViewDefinition[],
  failed?: (view: ViewDefinition, error: Error) => void,
): Promise<Map<string, string>> {
  const failedShape = failedShapesOf(before, after);
  // A view that failed before and is not tried again stays failed.
  const applied = new Map(
    after.map((v) => {
      const shape = before.get(v.name);
      return [v.name, shape?.startsWith(FAILED) && shape === failedShape(v.name) ? shape : v.shape];
    }),
  );
  for (const change of viewChanges(before, after)) {
    if (change.view?.refused !== undefined) {
      failed?.(change.view, new Error(change.view.refused));
      // One of its name from before (a model's build put its new rows under the name) would be
      // read in its place. None ever had a name under DuckDB's own schemas, so nothing of DuckDB's
      // own is dropped.
      if (before.has(change.view.name) && !before.get(change.view.name)?.startsWith(FAILED))
        await run(`DROP VIEW IF EXISTS ${quoteName(change.view.name)}`);
      applied.set(change.view.name, failedShape(change.view.name, true) || FAILED);
      continue;
    }
    try {
      await run(change.sql);
    } catch (error) {
      if (!change.view || FILE_RACE.test((error as Error).message)) throw error;
      failed?.(change.view, error as Error);
      // A view of the same name from before would read what its definition no longer says.
      await run(`DROP VIEW IF EXISTS ${quoteName(change.view.name)}`);
      // A shape no definition has: tried again once what it is built from changes (at the next
      // refresh after a failure of the moment), dropped once it is no longer wanted.
      const passing = PASSING_FAILURE.test((error as Error).message);
      applied.set(change.view.name, (!passing && failedShape(change.view.name, true)) || FAILED);
    }
  }
  return applied;
}

/** The statements that bring the engine's views from `before` to `after`. */
export function viewStatements(before: Map<string, string>, after: ViewDefinition[]): string[] {
  return viewChanges(before, after).map((change) => change.sql);
}

function viewChanges(
  before: Map<string, string>,
  after: ViewDefinition[],
): Array<{ sql: string; view?: ViewDefinition }> {
  const changes: Array<{ sql: string; view?: ViewDefinition }> = [];
  const names = new Set(after.map((v) => v.name));
  const failedShape = failedShapesOf(before, after);
  // One that failed was dropped then, or never created: DROP VIEW memory.marks would drop marks.
  for (const [name, shape] of before)
    if (!names.has(name) && !shape.startsWith(FAILED))
      changes.push({ sql: `DROP VIEW IF EXISTS ${quoteName(name)}` });
  for (const view of after) {
    const applied = before.get(view.name);
    if (applied === view.shape || (applied?.startsWith(FAILED) && applied === failedShape(view.name)))
      continue;
    if (view.refused !== undefined) {
      changes.push({ sql: `-- ${view.name} is left out: ${view.refused}`, view });
      continue;
    }
    const schema = view.name.includes('.') ? view.name.split('.')[0] : undefined;
    if (schema) changes.push({ sql: `CREATE SCHEMA IF NOT EXISTS ${quoteName(schema)}` });
    changes.push({ sql: `CREATE OR REPLACE VIEW ${quoteName(view.name)} AS ${view.sql}`, view });
  }
  return changes;
}
