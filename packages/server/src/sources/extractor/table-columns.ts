import { namesNear } from '../../edit-distance.ts';
import { InletError } from '../../errors/index.ts';
import { MERGE_FILE_COLUMN } from '../../lake/index.ts';
import { type ColumnPlan, duplicateColumn } from './column-plan.ts';
import type { TableTarget } from './table-options.ts';

/**
 * " (did you mean Id? names are case-sensitive)" for a configured column only the case of which is
 * wrong, which the list of columns alone left to be spotted; " (did you mean order_id?)" for one a
 * letter or two off, as a key misspelt in inlet.yaml is told.
 */
function meantColumn(column: string, columns: ColumnPlan[]): string {
  const names = columns.map((c) => c.name);
  const cased = names.filter((name) => name.toLowerCase() === column.toLowerCase());
  if (cased.length > 0) return ` (did you mean ${cased.join(', ')}? names are case-sensitive)`;
  const near = namesNear([column], names);
  return near.length > 0 ? ` (did you mean ${near.join(', ')}?)` : '';
}

/**
 * Checks a table's columns against its configuration before any row is copied, so a typo in a
 * cursor or key fails with the column list instead of an empty or wrong table.
 */
export function checkTableColumns(source: string, table: TableTarget, columns: ColumnPlan[]): void {
  const where = `${source}.${table.name}`;
  const fail = (message: string) => new InletError('SOURCE_SCHEMA_INVALID', `${where}: ${message}`);
  // PostgreSQL allows a table of no columns; Parquet does not.
  if (columns.length === 0)
    throw fail(
      'the result has no columns, and a lake table needs at least one; add a column to it or copy it with a query: that selects one',
    );
  const twice = duplicateColumn(columns);
  if (twice !== undefined)
    throw fail(
      `the column "${twice}" appears twice (names that differ only in case are one column in the lake); give one of them another name with AS in a query`,
    );
  // The view of a merge table reads each row's file name under this name: DuckDB refused to build
  // it over a column of the same name, and the table synced with success could not be queried.
  const taken = columns.find((c) => c.name.toLowerCase() === MERGE_FILE_COLUMN);
  if (table.mode === 'merge' && taken)
    throw fail(
      `the column "${taken.name}" has the name inlet's merge view gives the file each row comes from; ` +
        (table.files
          ? "rename it in the export (its header, or a JSON file's key)"
          : 'rename it with AS in a query:, or leave it out'),
    );
  const byName = new Map(columns.map((c) => [c.name, c]));
  const known = columns.map((c) => c.name).join(', ');
  const need = (column: string, key: string) => {
    const found = byName.get(column);
    if (!found)
      throw fail(
        `${key} "${column}" is not a column of the result${meantColumn(column, columns)}; its columns are: ${known}`,
      );
    return found;
  };
  if (table.cursor) {
    const cursor = need(table.cursor, 'cursor');
    // Its greatest value copied goes back into the database's WHERE; where the lake orders the
    // values otherwise, rows were copied again on every run, or the view kept an older version.
    if (cursor.unordered)
      throw fail(
        `cursor "${table.cursor}" has the type ${cursor.sourceType}, whose values inlet cannot order as the database does; ` +
          'use a column of numbers, dates, times or text that grows with each new or changed row (an id, updated_at)',
      );
  }
  for (const column of table.primaryKey ?? []) need(column, 'primary_key');
  if (table.deletedColumn) {
    const deleted = need(table.deletedColumn, 'deleted_column');
    // The merged view hides rows whose deleted column is not NULL; a false flag is not NULL.
    if ((deleted.lakeType ?? deleted.csvType) === 'BOOLEAN')
      throw fail(
        `deleted_column "${table.deletedColumn}" is a boolean; it must be NULL for live rows (a deleted_at time). ` +
          // A csv table has no query: to turn the flag into a time with.
          (table.files
            ? `Remove deleted_column and leave the deleted rows out in a model (WHERE NOT ${table.deletedColumn}), or export the deletion as a time, empty while the row is live.`
            : `Use a query with CASE WHEN ${table.deletedColumn} THEN now() END AS deleted_at.`),
      );
  }
}

/**
 * ` WHERE <cursor> > <saved value>` once a cursor was saved, else nothing (the first run copies all
 * rows). merge reads `>=`: a row that commits after a run with the cursor value the run saved last
 * (several rows updated in one second of a DATETIME) would otherwise never be copied. The rows read
 * again are versions the table has, and the view keeps the one copied last. A saved null means the
 * rows copied so far all had a NULL cursor: only rows with one are new. A saved EndlessPosition
 * reads the values below infinity past its `below`, and the endless ones past its `endless`.
 */
export function cursorCondition(
  table: TableTarget,
  position: unknown,
  sql: { column(name: string): string; literal(value: string): string },
): string {
  if (!table.cursor) return '';
  const column = sql.column(table.cursor);
  const past = table.mode === 'merge' ? '>=' : '>';
  if (position === null) return ` WHERE ${column} IS NOT NULL`;
  if (isEndlessPosition(position)) {
    const finite = `${column} < ${sql.literal('infinity')}`;
    const above =
      position.below === null ? finite : `${column} ${past} ${sql.literal(position.below)} AND ${finite}`;
    // NaN sorts above infinity: with NaN saved, an infinity not copied yet is read by name.
    const infinity = position.noInfinity ? ` OR ${column} = ${sql.literal('infinity')}` : '';
    return ` WHERE (${above}) OR ${column} ${past} ${sql.literal(position.endless)}${infinity}`;
  }
  if (typeof position !== 'string') return '';
  return ` WHERE ${column} ${past} ${sql.literal(position)}`;
}

/**
 * A cursor that reached a value no other is greater than, as the lake writes it: PostgreSQL's
 * infinity (timestamps, dates, numeric, floats) or NaN, which it sorts above every number.
 */
export const ENDLESS_VALUE = /^\+?(?:inf|infinity|nan)$/i;

/**
 * The position saved once the cursor reached infinity or NaN (`endless`): saved as the cursor alone,
 * no row after it was ever copied again (WHERE ts > 'infinity'). `below`: the greatest value below
 * infinity copied (null: none yet), past which rows are new.
 */
export interface EndlessPosition {
  below: string | null;
  endless: string;
  /** endless is NaN and no infinity was copied yet (absent in positions saved before it was kept). */
  noInfinity?: true;
}

/** PostgreSQL's NaN, as the lake writes it: the one value above infinity. */
export const isNaNValue = (value: string) => /^nan$/i.test(value.trim());

export const isEndlessPosition = (position: unknown): position is EndlessPosition =>
  typeof position === 'object' &&
  position !== null &&
  typeof (position as EndlessPosition).endless === 'string';
