import { sqlString } from '../../lake/index.ts';
import type { ParquetWriter } from '../extractor/index.ts';
import { quoteIdent } from './csv-type-mapping.ts';

/**
 * A value that starts with a quote, behind what a quote still opens a field after (spaces; a
 * carriage return, a byte order mark), as csv-shape's walker reads a field's start.
 */
const QUOTE_FIRST = '^[ \r\uFEFF]*"';

/** Types whose values are no text a quote could start: a quoted field in them fails the read. */
const NO_TEXT =
  /^(U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?|DOUBLE|FLOAT|DECIMAL\(.*\)|BOOLEAN|DATE|TIME.*|UUID|INTERVAL)$/;

/**
 * Whether a TSV part DuckDB wrote may come from a file with a quote left open, which it reads
 * without quoting: that quote opens a field, so the field's value, or its column's name for one in
 * the header, starts with it. A file read with quoting gives none (but for a value that starts with
 * a doubled quote, which sends the file to be looked through all the same). One pass of DuckDB
 * over the part's columns stands for looking through every file once more, which only a yes needs.
 */
export async function mayHoldOpenQuote(writer: ParquetWriter, part: string): Promise<boolean> {
  const from = `read_parquet(${sqlString(part)})`;
  const columns = await writer.describe(`SELECT * FROM ${from}`);
  if (columns.some((c) => new RegExp(QUOTE_FIRST).test(c.name))) return true;
  // A type types: forces that keeps the text otherwise (a BLOB's quote reads back as \x22).
  if (columns.some((c) => c.type !== 'VARCHAR' && !NO_TEXT.test(c.type))) return true;
  const starts = columns
    .filter((c) => c.type === 'VARCHAR')
    .map((c) => `regexp_matches(${quoteIdent(c.name)}, ${sqlString(QUOTE_FIRST)})`);
  if (starts.length === 0) return false;
  return (await writer.scalar(`SELECT 1 FROM ${from} WHERE ${starts.join(' OR ')} LIMIT 1`)) !== undefined;
}
