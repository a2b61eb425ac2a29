// DuckDB's failures to read a CSV, TSV or JSON export, recognised and said in inlet's terms: what to
// set for the table in the configuration file, not DuckDB's read_csv options.
import type { CsvTable } from './csv-config.ts';
import { needsDecoding } from './csv-type-mapping.ts';

/** DuckDB's binder error for a type forced on a column the files lack: CSV's, then JSON's. */
export const TYPED_COLUMN_MISSING =
  /COLUMN_TYPES error: Columns with names: .* do not exist|in REPLACE list not found/;

export const UNKNOWN_TYPE = /Type with name (.+?) does not exist/;
/** A type of types: as DuckDB names it in UNKNOWN_TYPE: upper-case, without its (p,s) and []. */
export const typeName = (type: string) => type.replace(/\s*(\(.*\))?(\[\])?$/, '').toUpperCase();

// Its CSV reader's words, then its JSON reader's.
export const NOT_UTF8 = /not utf-8 encoded|Invalid unicode|invalid UTF-8 encoding/i;
export const setEncoding = (configFile: string) =>
  `set encoding for this table in ${configFile} (windows-1252 for a Western Excel export, shift_jis for a Japanese one, or any encoding iconv-lite knows; docs/csv.md)`;

/**
 * What to do about DuckDB's failure, in inlet's terms: its own advice names its options
 * (`encoding='UTF-16'`, `ignore_errors`), which a table in the configuration file does not have.
 */
export function readHint(message: string, { encoding, types }: CsvTable, configFile: string): string {
  if (!needsDecoding(encoding) && NOT_UTF8.test(message))
    return `. The file is not UTF-8: ${setEncoding(configFile)}`;
  if (/Malformed JSON.*surrogate/s.test(message))
    return '. It holds a lone surrogate escape such as \\ud83d (half of an emoji, often a string cut short by the program that wrote it), which DuckDB cannot read: replace it in the file with \\ufffd';
  // A CSV file read as JSON (format: json, or a .json extension) said only "Malformed JSON … unexpected character".
  if (/Malformed JSON/.test(message))
    return `. It is not valid JSON where DuckDB says: an export cut short or written wrong, or a file in another format; if it is CSV or TSV, set format: for this table in ${configFile} (docs/csv.md)`;
  if (
    types !== undefined &&
    /Error when converting column|JSON transform error.*Failed to cast/s.test(message)
  )
    return `. A column's type set by types: in ${configFile} does not fit one of its values: set that column to VARCHAR, which takes any, or correct the value`;
  if (/not possible to automatically detect the CSV parsing dialect/.test(message))
    return `. Check this table's delimiter:, header:, skip: (lines above the header) and encoding: in ${configFile} (docs/csv.md)`;
  return '';
}

/**
 * DuckDB's message without its list of fixes, which name read_csv options inlet.yaml does not have
 * (`Possible Solution: Enable ignore errors`, `* Check whether the null string value is set
 * correctly (e.g., nullstr = 'N/A')`), the options it read with (`file = …`, `sample_size = …`),
 * and inlet's own SQL; the line it quotes is cut to its start, as a line may be 8 MB long.
 */
export function withoutDuckDbAdvice(message: string): string {
  const cut = message.search(
    /\n(?:The search space used was:|Possible fixes:|Possible Solution:|Try setting |\s*LINE \d+:|\* |\s*file = )/,
  );
  return (cut === -1 ? message : message.slice(0, cut))
    .replace(/^(Original Line: .{200}).+$/m, '$1…')
    .trimEnd();
}
