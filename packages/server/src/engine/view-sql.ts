import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { EVENT_COLUMNS } from '../events/index.ts';
import {
  type DataLayout,
  eventFiles,
  type LakeTable,
  lakeEntries,
  MERGE_FILE_COLUMN,
  mergeOrderSql,
  parquetLinks,
  partitionFiles,
  partitions,
  sqlString,
  walReadSql,
} from '../lake/index.ts';
import { listSegments, segmentPath } from '../wal/index.ts';
import { escapeRegExp } from './sql-hints.ts';
import type { ViewDefinition } from './views.ts';
import type { WalViewFile } from './wal-view-check.ts';

/** A column's name quoted whole: a source's column may hold a dot, which is no schema separator there. */
const quoteColumn = (name: string) => `"${name.replaceAll('"', '""')}"`;

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
