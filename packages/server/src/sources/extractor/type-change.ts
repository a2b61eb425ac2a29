import { InletError } from '../../errors/index.ts';
import { sqlString } from '../../lake/index.ts';
import { type ParquetWriter, quoteIdent } from './parquet-writer.ts';

/**
 * A type with its time zone left out: TIMESTAMP WITH TIME ZONE and TIMESTAMP (also in lists) then
 * read alike. DuckDB casts a time without a zone to one with a zone in the session's time zone: the
 * query engine's is inlet.yaml's timezone, the writer that compacts files runs in UTC.
 */
const withoutZone = (type: string) => type.replaceAll('TIMESTAMP WITH TIME ZONE', 'TIMESTAMP');

const read = (files: string[]) => `read_parquet([${files.map(sqlString).join(', ')}], union_by_name=true)`;

/**
 * Refuses a run whose files the table's view cannot read together with the files committed before.
 * The view reads all of them as one table, each column cast to a type common to every file; a
 * column whose type changed in a way DuckDB cannot cast (an integer column that became a date, a
 * CSV column inferred as a date in one export and as a number in the next) was committed, and from
 * then on every query of the table failed. Only the columns whose type differs are read.
 */
export async function checkTypeChange(
  writer: ParquetWriter,
  options: {
    where: string;
    committed: string[];
    staged: string[];
    /** The configuration file whose timezone: the message names (configFileName). */
    configFile: string;
    /** The table's cursor column, whose values must keep their order from run to run. */
    cursor?: string | undefined;
  },
): Promise<void> {
  const { where, committed, staged, configFile, cursor } = options;
  if (committed.length === 0 || staged.length === 0) return;
  const typesOf = async (files: string[]) =>
    new Map((await writer.describe(`SELECT * FROM ${read(files)}`)).map((c) => [c.name, c.type]));
  const before = await typesOf(committed);
  const added = await typesOf(staged);
  if (cursor !== undefined && textOnlyOnOneSide(before.get(cursor), added.get(cursor))) {
    // A column empty in every row is VARCHAR for want of values to type it by (a header-only export).
    const holdsValues = async (files: string[]) =>
      Number(await writer.scalar(`SELECT count(${quoteIdent(cursor)}) FROM ${read(files)}`)) > 0;
    if ((await holdsValues(committed)) && (await holdsValues(staged)))
      throw cursorTypeChanged(where, cursor, before.get(cursor) ?? '', added.get(cursor) ?? '');
  }
  const after = await typesOf([...committed, ...staged]);
  for (const [files, own] of [
    [staged, added],
    [committed, before],
  ] as const) {
    for (const [name, type] of own) {
      const common = after.get(name);
      if (common === undefined || common === type) continue;
      if (withoutZone(common) === withoutZone(type))
        throw new InletError(
          'SOURCE_SCHEMA_INVALID',
          `${where}: column "${name}" is ${before.get(name)} in the rows copied before and ${added.get(name)} in this run's; ` +
            `read as one column, the times without a time zone would be taken in the time zone of each query (timezone: in ${configFile}), ` +
            'and change once the files are compacted, so nothing of this run was committed. ' +
            `Keep the column's type (a file: types: { ${name}: ${before.get(name)} }; a database table: a query: that casts it), ` +
            'or copy the table again from the start (docs/databases.md, "New columns are picked up").',
        );
      try {
        await writer.scalar(`SELECT count(CAST(${quoteIdent(name)} AS ${common})) FROM ${read(files)}`);
      } catch (error) {
        // Only a value that does not convert is the data's fault; anything else is this check's.
        if (!/^Conversion Error/.test((error as Error).message ?? '')) continue;
        const reason = ((error as Error).message ?? '').split('\n')[0];
        throw new InletError(
          'SOURCE_SCHEMA_INVALID',
          `${where}: column "${name}" is ${before.get(name)} in the rows copied before and ${added.get(name)} in this run's, ` +
            `and the lake cannot read both as one column (${reason}); nothing of this run was committed. ` +
            `Keep the column's type (a file: types: { ${name}: ${before.get(name)} } or VARCHAR; a database table: a query: that casts it), ` +
            'or copy the table again from the start (docs/databases.md, "New columns are picked up").',
          { cause: error },
        );
      }
    }
  }
}

/** Whether one of two types is text and the other is not: their values order otherwise. */
const textOnlyOnOneSide = (was?: string, now?: string) =>
  was !== undefined && now !== undefined && (was === 'VARCHAR') !== (now === 'VARCHAR');

/**
 * A cursor that became text, or stopped being text, between runs. The lake reads both as text,
 * which the change follows for another column; but the cursor saved (a time's or a number's text)
 * was then compared with the new column by the database as text, and a merge view ranked each row's
 * versions by their text, the values copied before written otherwise than those copied now.
 */
function cursorTypeChanged(where: string, cursor: string, was: string, now: string): InletError {
  const name = /^[A-Za-z_][A-Za-z0-9_]*$/.test(cursor) ? cursor : JSON.stringify(cursor);
  return new InletError(
    'SOURCE_SCHEMA_INVALID',
    `${where}: cursor column "${cursor}" is ${was} in the rows copied before and ${now} in this run's; ` +
      'text orders otherwise than times and numbers ("10" before "9", "2026-1-2" after "2026-01-10"), so the rows past the saved cursor, ' +
      "and a merge table's newest version of each row, would be taken by the wrong order; nothing of this run was committed. " +
      `Keep the column's type (a database table: a query: that casts it, SELECT …, CAST(${name} AS …) AS ${name} FROM …; a file: types: { ${name}: ${was} }), ` +
      'or copy the table again from the start (docs/databases.md, "New columns are picked up").',
  );
}
