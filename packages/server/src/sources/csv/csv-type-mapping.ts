import iconv from 'iconv-lite';
import { sqlString } from '../../lake/index.ts';

export const CSV_FORMATS = ['csv', 'tsv', 'json', 'ndjson'] as const;
export type CsvFormat = (typeof CSV_FORMATS)[number];

/** A DuckDB type name a user may force a column to (VARCHAR, BIGINT, DECIMAL(12,2), VARCHAR[]…). */
export const LAKE_TYPE = /^[A-Za-z][A-Za-z0-9_ ]*(\(\d+(,\s*\d+)?\))?(\[\])?$/;

const EXTENSIONS: Record<string, CsvFormat> = {
  csv: 'csv',
  tsv: 'tsv',
  tab: 'tsv',
  json: 'json',
  ndjson: 'ndjson',
  jsonl: 'ndjson',
};

/** The format a file's extension implies, if any. */
export function formatOf(path: string): CsvFormat | undefined {
  const extension = /\.([A-Za-z]+)$/.exec(path)?.[1]?.toLowerCase();
  return extension ? EXTENSIONS[extension] : undefined;
}

const isUtf8 = (encoding: string) => /^utf-?8$/i.test(encoding);

/** How iconv-lite compares names: lower case, letters and digits only (Shift_JIS is shiftjis). */
export const canonicalEncoding = (name: string) => name.toLowerCase().replace(/[^0-9a-z]/g, '');

/**
 * iconv-lite's codecs that write bytes as hex digits or base64, not characters: a file "decoded" by
 * one was imported as one line of digits, a header and no rows, without a word.
 */
export const BYTES_AS_TEXT = /^(base64|hex)$/;

/** True for UTF-8 (read directly) and every encoding of characters iconv-lite can decode (Shift_JIS, GBK, Latin-1…). */
export function isKnownEncoding(encoding: string): boolean {
  return (
    isUtf8(encoding) || (iconv.encodingExists(encoding) && !BYTES_AS_TEXT.test(canonicalEncoding(encoding)))
  );
}

/** Whether a file must be decoded to UTF-8 before DuckDB reads it. */
export const needsDecoding = (encoding: string) => !isUtf8(encoding);

/**
 * Shift_JIS exports from Excel and Salesforce are really Windows-31J (CP932: NEC and IBM extensions
 * such as ① and ㈱), a superset, so they are decoded as that.
 */
export const decoderName = (encoding: string) =>
  /^(shift[-_]?jis|sjis|ms_?kanji)$/i.test(encoding) ? 'cp932' : encoding;

/**
 * An encoding's characters of more than one byte whose later bytes may be ASCII ones, which a scan
 * of bytes must step over, as pairs: the bytes that open one and those that may follow.
 */
export interface MultiByteChars {
  lead(byte: number): boolean;
  trail(byte: number): boolean;
}

const within = (byte: number, from: number, to: number) => byte >= from && byte <= to;

// A lead byte before a byte that cannot follow it is decoded alone, as U+FFFD, and that byte as itself.
const SHIFT_JIS: MultiByteChars = {
  lead: (byte) => within(byte, 0x81, 0x9f) || within(byte, 0xe0, 0xfc),
  trail: (byte) => within(byte, 0x40, 0xfc) && byte !== 0x7f,
};

const GBK: MultiByteChars = {
  lead: (byte) => within(byte, 0x81, 0xfe),
  trail: (byte) => within(byte, 0x40, 0xfe) && byte !== 0x7f,
};

// A four-byte character (a lead, 0x30–0x39, a lead, 0x30–0x39) is stepped over as two pairs.
const GB18030: MultiByteChars = {
  lead: GBK.lead,
  trail: (byte) => GBK.trail(byte) || within(byte, 0x30, 0x39),
};

const BIG5: MultiByteChars = {
  lead: (byte) => within(byte, 0x81, 0xfe),
  trail: (byte) => within(byte, 0x40, 0x7e) || within(byte, 0xa1, 0xfe),
};

// Unified Hangul Code: its second bytes are letters, or 0x81–0xFE.
const CP949: MultiByteChars = {
  lead: (byte) => within(byte, 0x81, 0xfe),
  trail: (byte) => within(byte, 0x41, 0x5a) || within(byte, 0x61, 0x7a) || within(byte, 0x81, 0xfe),
};

// By the name of iconv-lite's codec, which every other name of the encoding resolves to.
const MULTI_BYTE_CHARS = new Map<string, MultiByteChars>([
  ['shiftjis', SHIFT_JIS],
  ['cp936', GBK],
  ['gbk', GBK],
  ['gb18030', GB18030],
  ['cp950', BIG5],
  ['big5hkscs', BIG5],
  ['cp949', CP949],
]);

/**
 * The characters of a table's encoding whose later bytes may be ASCII: Shift_JIS's (CP932 and every
 * other name iconv-lite knows it by), where ポ is 0x83 0x7C, a "|" to a scan of bytes; GBK's (CP936,
 * GB2312), GB18030's, Big5's (CP950, Big5-HKSCS) and CP949's (EUC-KR, which iconv-lite reads as it).
 * Undefined for UTF-8 and EUC-JP, whose characters of more than one byte hold no ASCII byte.
 */
export const multiByteChars = (encoding: string): MultiByteChars | undefined =>
  iconv.encodingExists(encoding) ? MULTI_BYTE_CHARS.get(iconv.getCodec(encoding).encodingName) : undefined;

export const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;
/** The longest row DuckDB's CSV reader is given leave to read, as CSV (8 MB). */
export const MAX_ROW_BYTES = 8 * 1024 * 1024;

/** A CSV or TSV table's field delimiter: its own, else comma or tab by format. */
export const csvDelimiter = (table: { format: CsvFormat; delimiter?: string | undefined }): string =>
  table.delimiter ?? (table.format === 'tsv' ? '\t' : ',');

/** A CSV or TSV table's delimiter as the bytes its files hold it as: ；is three in UTF-8, two in Shift_JIS. */
export const delimiterBytes = (table: {
  format: CsvFormat;
  delimiter?: string | undefined;
  encoding: string;
}): Buffer => iconv.encode(csvDelimiter(table), decoderName(table.encoding));

/**
 * The DuckDB reader over a table's files (all UTF-8 by now). Column types are inferred from every
 * row (sample_size=-1), so a value late in a file cannot contradict the type picked from the first
 * rows; a code with leading zeros stays text. `types` forces a column's type: for CSV while parsing (so
 * 00123 can stay 00123), for JSON with a cast after reading.
 */
export function readSql(
  paths: string[],
  table: {
    format: CsvFormat;
    header: boolean;
    delimiter?: string | undefined;
    skip?: number;
    types?: Record<string, string> | undefined;
    /** Every file has one column: DuckDB reads its blank lines as rows of NULL, which are left out. */
    oneColumn?: boolean;
    /**
     * JSON: every column with its type, `types` in place of the inferred ones, read as such. A cast
     * after reading came too late for a number too long for a DOUBLE, its digits already lost.
     */
    jsonColumns?: Array<{ name: string; type: string }>;
  },
): string {
  const files = `[${paths.map(sqlString).join(', ')}]`;
  const types = Object.entries(table.types ?? {});
  if (table.format === 'json' || table.format === 'ndjson') {
    const format = table.format === 'ndjson' ? 'newline_delimited' : 'auto';
    if (table.jsonColumns) {
      const columns = table.jsonColumns.map(({ name, type }) => `${sqlString(name)}: ${sqlString(type)}`);
      return `SELECT * FROM read_json(${files}, format='${format}', records=true, union_by_name=true, columns={${columns.join(', ')}})`;
    }
    // records=true: left to guess, DuckDB read a file with one line that is not an object ([1,2],
    // 42) as a table of one column "json", every row of it a JSON value.
    const from = `read_json(${files}, format='${format}', records=true, union_by_name=true, sample_size=-1)`;
    if (types.length === 0) return `SELECT * FROM ${from}`;
    const casts = types.map(([name, type]) => `CAST(${quoteIdent(name)} AS ${type}) AS ${quoteIdent(name)}`);
    return `SELECT * REPLACE (${casts.join(', ')}) FROM ${from}`;
  }
  const delimiter = csvDelimiter(table);
  const forced = types.length
    ? `, types={${types.map(([name, type]) => `${sqlString(name)}: ${sqlString(type)}`).join(', ')}}`
    : '';
  return (
    // skip is always given: left out, DuckDB guesses how many lines to skip, and for a file with a
    // wider line at its end it took that line for the header and read no rows at all.
    // quote is always given for CSV: left out, DuckDB took a file with one quote left open for a
    // file without quoting, and read every quoted field of it with its quotes as text.
    `SELECT * FROM read_csv(${files}, header=${table.header}, delim=${sqlString(delimiter)}, skip=${table.skip ?? 0}, ` +
    (table.format === 'csv' ? `quote='"', ` : '') +
    `sample_size=-1, union_by_name=true, max_line_size=${MAX_ROW_BYTES}, buffer_size=${MAX_ROW_BYTES * 2}${forced})` +
    (table.oneColumn ? ' WHERE COLUMNS(*) IS NOT NULL' : '')
  );
}
