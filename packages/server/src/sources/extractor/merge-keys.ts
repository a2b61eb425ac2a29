import { InletError } from '../../errors/index.ts';
import { sqlString } from '../../lake/index.ts';
import { type ParquetWriter, quoteIdent } from './parquet-writer.ts';

/**
 * Refuses a merge run whose rows lack their primary_key. The view keeps the latest row per key,
 * and rows whose key is NULL counted as one key: all but one of them were hidden without a word.
 */
export async function checkMergeKeys(
  writer: ParquetWriter,
  options: { where: string; key: string[]; staged: string[]; files?: boolean | undefined },
): Promise<void> {
  const { where, key, staged, files: fromFiles } = options;
  if (staged.length === 0 || key.length === 0) return;
  const files = `read_parquet([${staged.map(sqlString).join(', ')}], union_by_name=true)`;
  const keyless = key.map((column) => `${quoteIdent(column)} IS NULL`).join(' OR ');
  const rows = Number(await writer.scalar(`SELECT count(*) FROM ${files} WHERE ${keyless}`));
  if (rows === 0) return;
  const [first] = key;
  const named = key.length === 1 ? `${first} is NULL` : `one of ${key.join(', ')} is NULL`;
  throw new InletError(
    'SOURCE_DATA_INVALID',
    `${where}: ${rows} ${rows === 1 ? 'row' : 'rows'} of this run ${rows === 1 ? 'has' : 'have'} no primary_key (${named}), and the merge view, ` +
      'which shows one row per key, would hide all but one of them; nothing of this run was committed. ' +
      // A csv table has no query: to leave the rows out with.
      (fromFiles
        ? 'Give every row of the export its key, or set a primary_key every row has.'
        : `Set a primary_key every row has, or copy the table with a query: that leaves those rows out or gives them a key (… WHERE ${first} IS NOT NULL).`),
  );
}

/**
 * Whether the view may rank a merge table's versions of one cursor value in one file by their place
 * in it: no file has a column of its own named file_row_number, which hides DuckDB's.
 */
export async function rowOrdered(writer: ParquetWriter, files: string[]): Promise<boolean> {
  if (files.length === 0) return false;
  const columns = await writer.describe(
    `SELECT * FROM read_parquet([${files.map(sqlString).join(', ')}], union_by_name=true)`,
  );
  return !columns.some((c) => c.name.toLowerCase() === 'file_row_number');
}
