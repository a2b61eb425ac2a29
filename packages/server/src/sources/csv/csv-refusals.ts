/** The messages a csv source refuses files with, and its notes for files read otherwise than asked. */
import { InletError } from '../../errors/index.ts';

/** How a table's refusal ends when it refused its files before importing any. */
export const NOTHING_IMPORTED = 'Nothing was imported and the table keeps its rows.';

/** How each message for a quote left open names it. */
const opens = (where: string, file: string, line: number) =>
  `${where}: line ${line} of ${file} opens a quoted field (") that no quote closes before the end of the file`;

/** A CSV file refused for a quote left open: read with quoting, it ends inside that field. */
export const openQuoteRefused = (where: string, file: string, line: number) =>
  new InletError(
    'SOURCE_DATA_INVALID',
    `${opens(where, file, line)}. Close it; a quote inside a quoted field is written twice (""). ${NOTHING_IMPORTED}`,
  );

/** The note for a TSV file read without quoting, DuckDB's guess for a file with a quote left open. */
export const tsvReadUnquoted = (where: string, file: string, line: number) =>
  `${opens(where, file, line)}, so the file was read without quoting, as a TSV file with a quote left open is: its quotes are kept as text. ` +
  'If its fields are quoted, close that one (a quote inside a quoted field is written twice, ""); if they are not, the quote is text and nothing is wrong.';

/**
 * A TSV file DuckDB failed to read without quoting, its guess for a file with a quote left open:
 * a closed quoted field's line break or tab then splits its row, a quoted number keeps its quotes.
 * DuckDB's words (`said`) name what failed; the quote is what likely caused it.
 */
export const tsvUnquotedRefused = (where: string, file: string, line: number, said: string) =>
  new InletError(
    'SOURCE_DATA_INVALID',
    `${opens(where, file, line)}, so DuckDB read the file without quoting, as it reads a TSV file with a quote left open, and could not: ${said}. ` +
      `If its fields are quoted, close that one (a quote inside a quoted field is written twice, ""); if they are not, the quote is text, and what DuckDB says is wrong with the file. ${NOTHING_IMPORTED}`,
  );
