import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { z } from 'zod';
import { syncPath } from './files.ts';

/**
 * How to read one table of the lake, kept beside its files as _table.json so the lake describes
 * itself: the engine turns each manifest into a view, the catalog lists them, and other engines
 * (Athena, BigQuery) can be pointed at the same files.
 */
export interface LakeTable {
  /** The view name in the engine: a plain name (access_logs) or schema.name (crm.customers). */
  name: string;
  kind: 'logs' | 'source' | 'mart';
  /** Glob of the Parquet files, relative to the table directory. */
  files: string;
  /** The files sit in Hive partitions (dt=YYYY-MM-DD/…); dt becomes a DATE column. */
  hive_partitioning?: boolean;
  /** The files hold increments; the view keeps the newest row per key and hides deleted rows. */
  merge?: {
    key: string[];
    order_by: string;
    /**
     * A DuckDB expression over order_by, written {}, that ranks its values where the column's own
     * order does not (numbers kept as text, where '99' > '100').
     */
    order?: string;
    deleted_column?: string;
    /**
     * No file of the table has a column of its own named file_row_number, so versions of one key and
     * cursor value in one file are ranked by their place in it (the later row wins), as a fold ranks
     * them. Without it, such versions were ranked in no order, another at each query.
     */
    row_order?: true;
  };
  description?: string;
  /** Column descriptions by column name. */
  columns?: Record<string, string>;
  /** What the table is built from, for lineage: other table names or source names. */
  depends_on?: string[];
  /**
   * A view over other tables instead of files (a model materialized as a view); files is then
   * empty and depends_on names the tables the SQL reads, which must exist before it is created.
   */
  sql?: string;
  /**
   * A mart of a model that uses {{ timezone }} (itself or upstream): the zone it was built in, which
   * its local days and hours are in. Building on it in another zone is refused (checkTimezones).
   */
  timezone?: string;
}

export const TABLE_MANIFEST = '_table.json';

/**
 * The column a merge table's view reads each row's file name into, to rank versions of one cursor
 * value; a table's own column of that name is refused when it is synced (checkTableColumns).
 */
export const MERGE_FILE_COLUMN = '__inlet_file';

/** The expression a merge table's versions of one key are ranked by (highest first). */
export function mergeOrderSql(
  merge: NonNullable<LakeTable['merge']>,
  quote: (name: string) => string,
): string {
  const column = quote(merge.order_by);
  return merge.order ? merge.order.replaceAll('{}', column) : column;
}

/** Writes (or atomically replaces) a table's manifest. */
export function writeLakeTable(dir: string, table: LakeTable): void {
  const tmp = join(dir, `.${TABLE_MANIFEST}.tmp`);
  writeFileSync(tmp, `${JSON.stringify(table, null, 2)}\n`);
  syncPath(tmp);
  renameSync(tmp, join(dir, TABLE_MANIFEST));
  syncPath(dir);
}

/** A table's manifest, or why _table.json is none ('missing' when there is no such file). */
function readManifest(dir: string): LakeTable | string {
  let text: string;
  try {
    text = readFileSync(join(dir, TABLE_MANIFEST), 'utf8');
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    return code === 'ENOENT' || code === 'ENOTDIR' ? 'missing' : message;
  }
  let table: unknown;
  try {
    table = JSON.parse(text);
  } catch (error) {
    return `not JSON: ${(error as Error).message}`;
  }
  // JSON of another shape ({}, a manifest without files, a merge key that is no list) failed every
  // query of every table, events too, with "The "path" argument must be of type string".
  const parsed = MANIFEST.safeParse(table);
  if (parsed.success) return table as LakeTable;
  const [issue] = parsed.error.issues;
  const where = issue?.path.join('.') || 'the manifest';
  return issue?.code === 'invalid_type'
    ? `${where} must be ${KINDS[issue.expected] ?? issue.expected}`
    : `${where} must not be empty`;
}

const KINDS: Record<string, string> = { string: 'a text', array: 'a list', object: 'an object' };

const names = z.array(z.string());
/** What the views, the catalog and the runs read of a manifest; other keys are kept as they are. */
const MANIFEST = z.looseObject({
  name: z.string().min(1),
  files: z.string(),
  merge: z
    .looseObject({
      key: names.min(1),
      order_by: z.string(),
      order: z.string().optional(),
      deleted_column: z.string().optional(),
    })
    .optional(),
  depends_on: names.optional(),
  sql: z.string().optional(),
  timezone: z.string().optional(),
});

export function readLakeTable(dir: string): LakeTable | undefined {
  const table = readManifest(dir);
  return typeof table === 'string' ? undefined : table;
}

/** A _table.json that is there but is no manifest inlet can read, and why. */
export interface DamagedManifest {
  dir: string;
  reason: string;
}

/**
 * The name and kind a table's folder gives it, for one whose _table.json cannot be read:
 * marts/<name>, sources/<source>/<table> as <source>.<table>, and <name> for a log table.
 */
export function tableOfFolder(
  lakeRoot: string,
  dir: string,
): Pick<LakeTable, 'name' | 'kind' | 'depends_on'> {
  const [top, ...rest] = relative(lakeRoot, dir).split(sep);
  if (top === 'marts') return { name: rest.join('.'), kind: 'mart' };
  if (top === 'sources') return { name: rest.join('.'), kind: 'source', depends_on: rest.slice(0, 1) };
  return { name: [top, ...rest].join('.'), kind: 'logs' };
}

/**
 * Every table manifest under the lake (up to three levels down, e.g. lake/sources/crm/customers),
 * with its directory; those that are there but cannot be read go to damaged, when given.
 */
export function listLakeTables(
  lakeRoot: string,
  damaged?: DamagedManifest[],
): Array<{ dir: string; table: LakeTable }> {
  const out: Array<{ dir: string; table: LakeTable }> = [];
  const walk = (dir: string, depth: number) => {
    if (!existsSync(dir)) return;
    const table = readManifest(dir);
    if (typeof table !== 'string') {
      out.push({ dir, table });
      return;
    }
    if (table !== 'missing') {
      damaged?.push({ dir, reason: table });
      return;
    }
    if (depth === 0) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (
        entry.isDirectory() &&
        !entry.name.startsWith('_') &&
        !entry.name.startsWith('.') &&
        !entry.name.startsWith('dt=')
      ) {
        walk(join(dir, entry.name), depth - 1);
      }
    }
  };
  walk(lakeRoot, 3);
  return out.sort((a, b) => a.table.name.localeCompare(b.table.name));
}

/** True when the directory holds at least one visible Parquet file, at any depth. */
export function hasParquetFiles(dir: string): boolean {
  if (!existsSync(dir)) return false;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || entry.name.startsWith('_')) continue;
    if (entry.isFile() && entry.name.endsWith('.parquet')) return true;
    if (entry.isDirectory() && hasParquetFiles(join(dir, entry.name))) return true;
  }
  return false;
}
