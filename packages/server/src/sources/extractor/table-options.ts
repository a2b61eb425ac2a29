import { z } from 'zod';

/** How a table's copy in the lake follows the source; see docs/databases.md. */
export const syncModeSchema = z.enum(['full', 'incremental', 'merge']);
export type SyncMode = z.infer<typeof syncModeSchema>;

const TABLE_NAME = /^[a-z][a-z0-9_]{0,62}$/;

/** What the extractor needs to know about one table, whatever its source kind. */
export interface TableTarget {
  /** The table's name in the lake: lake/sources/<source>/<name>/ and the view <source>.<name>. */
  name: string;
  mode: SyncMode;
  /** The column that grows with every insert (incremental) or change (merge). */
  cursor?: string | undefined;
  primaryKey?: string[] | undefined;
  /** A column that is NULL while a row is live and set once it is deleted (merge only). */
  deletedColumn?: string | undefined;
  /** Read from export files (a csv source), which have no query: to reshape their rows with. */
  files?: boolean | undefined;
}

const columnList = z
  .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
  .transform((value) => (typeof value === 'string' ? [value] : value));

/** The options every table entry has, whatever it is read from. */
export const tableModeFields = {
  name: z
    .string()
    .regex(
      TABLE_NAME,
      'must start with a lower-case letter and hold only lower-case letters, digits and _ (at most 63)',
    )
    .optional(),
  mode: syncModeSchema.default('full'),
  cursor: z.string().min(1).optional(),
  primary_key: columnList.optional(),
  deleted_column: z.string().min(1).optional(),
};

interface ModeOptions {
  mode: SyncMode;
  cursor?: string | undefined;
  primary_key?: string[] | undefined;
  deleted_column?: string | undefined;
}

/** Checks that the options a mode needs are present, naming the key that is missing. */
export function checkModeOptions(
  entry: ModeOptions,
  ctx: z.RefinementCtx,
  options: { incrementalNeedsCursor: boolean } = { incrementalNeedsCursor: true },
): void {
  if (entry.mode === 'incremental' && options.incrementalNeedsCursor && !entry.cursor)
    ctx.addIssue({
      code: 'custom',
      path: ['cursor'],
      message: 'mode incremental needs a cursor column that grows with every new row, such as id',
    });
  if (entry.mode === 'merge') {
    if (!entry.primary_key)
      ctx.addIssue({ code: 'custom', path: ['primary_key'], message: 'mode merge needs a primary_key' });
    if (!entry.cursor)
      ctx.addIssue({
        code: 'custom',
        path: ['cursor'],
        message: 'mode merge needs a cursor column that grows whenever a row changes, such as updated_at',
      });
  }
  // Left out of a full copy without a word, a cursor written without mode: incremental made every
  // run copy the whole table again, and whoever wrote it believed it copied only the new rows.
  const full = 'mode is full (the default when mode: is not set), which copies the whole table every run';
  // A csv table says so of a cursor in any mode but merge itself.
  if (entry.mode === 'full' && entry.cursor && options.incrementalNeedsCursor)
    ctx.addIssue({
      code: 'custom',
      path: ['cursor'],
      message: `is only used with mode incremental or merge, and ${full}: set mode: incremental (or merge, with a primary_key), or remove cursor`,
    });
  if (entry.mode === 'full' && entry.primary_key)
    ctx.addIssue({
      code: 'custom',
      path: ['primary_key'],
      message: `is only used with mode merge, and ${full}: set mode: merge (with a cursor), or remove primary_key`,
    });
  // Taken without a word, a key that names a column twice keys the rows by fewer columns than it
  // seems to; said once, it is the same key.
  const twice = entry.primary_key?.find((column, i, key) => key.indexOf(column) !== i);
  if (twice !== undefined)
    ctx.addIssue({
      code: 'custom',
      path: ['primary_key'],
      message: `names the column "${twice}" twice (${entry.primary_key?.join(', ')}); name each column of the key once`,
    });
  if (entry.deleted_column && entry.mode !== 'merge')
    ctx.addIssue({ code: 'custom', path: ['deleted_column'], message: 'is only used with mode merge' });
  // The view hides each row whose deleted_column is not NULL: a key column, or the cursor, hid
  // every row (or every changed one), the sync saying all the while that it copied them.
  const deleted = entry.deleted_column;
  const meant =
    'name the column that is NULL while a row is live and set once it is deleted (such as deleted_at), or remove deleted_column';
  if (entry.mode === 'merge' && deleted && entry.primary_key?.includes(deleted))
    ctx.addIssue({
      code: 'custom',
      path: ['deleted_column'],
      message: `is ${deleted}, a column of primary_key, which every row has (a row without one is refused), so every row would read as deleted and the view would show none; ${meant}`,
    });
  else if (entry.mode === 'merge' && deleted && deleted === entry.cursor)
    ctx.addIssue({
      code: 'custom',
      path: ['deleted_column'],
      message: `is ${deleted}, the cursor, which every changed row has, so every such row would read as deleted and the view would hide it; ${meant}`,
    });
}

/** A lake table name derived from a source object name (a table, a file), or undefined when none fits. */
export function deriveTableName(from: string): string | undefined {
  const name = from
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return TABLE_NAME.test(name) ? name : undefined;
}

/** Rejects two tables of one source that land under the same name. */
export function checkUniqueNames(tables: Array<{ name: string }>, ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  tables.forEach((table, i) => {
    if (seen.has(table.name))
      ctx.addIssue({
        code: 'custom',
        path: [i, 'name'],
        message: `"${table.name}" is used by another table of this source; give one of them a different name`,
      });
    seen.add(table.name);
  });
}

/** The TableTarget part of a parsed entry. */
export function tableTarget(entry: ModeOptions & { name: string }): TableTarget {
  return {
    name: entry.name,
    mode: entry.mode,
    cursor: entry.cursor,
    primaryKey: entry.primary_key,
    deletedColumn: entry.deleted_column,
  };
}
