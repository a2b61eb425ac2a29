import { closeSync, createReadStream, openSync, readSync } from 'node:fs';

/** The first record of a CSV file whose number of fields differs from the first record's. */
export interface RaggedRecord {
  /** The line the record starts on, 1-based, counting skipped lines. */
  line: number;
  fields: number;
  /** The first record's field count (the header's, when the file has one). */
  expected: number;
}

/**
 * Finds the first record with another number of fields than the first, reading the file as UTF-8
 * text once. Quoted fields may hold the delimiter, doubled quotes and line breaks; blank lines are
 * passed over, as DuckDB passes over them. Used only to explain a file DuckDB refused, so it keeps
 * to the one thing DuckDB's message does not say: which line breaks the shape.
 */
export async function findRaggedRecord(
  path: string,
  options: { delimiter: string; skip: number },
): Promise<RaggedRecord | undefined> {
  const walker = recordWalker(options);
  let expected: number | undefined;
  const check = ({ line, fields }: WalkedRecord): RaggedRecord | undefined => {
    if (expected === undefined) expected = fields;
    else if (fields !== expected) return { line, fields, expected };
    return undefined;
  };
  for await (const chunk of createReadStream(path, { encoding: 'utf8' }) as AsyncIterable<string>)
    for (const record of walker.push(chunk)) {
      const ragged = check(record);
      if (ragged) return ragged;
    }
  const last = walker.end();
  return last && expected !== undefined ? check(last) : undefined;
}

/**
 * The line of a quote that nothing closes before the end of the file, if there is one. DuckDB then
 * read the file without quoting, each quoted field with its quotes and doubled quotes as text.
 */
export async function findOpenQuote(
  path: string,
  options: { delimiter: string; skip: number },
): Promise<number | undefined> {
  const walker = recordWalker(options);
  for await (const chunk of createReadStream(path, { encoding: 'utf8' }) as AsyncIterable<string>)
    walker.push(chunk);
  return walker.openQuote();
}

/** A record of a CSV file longer than DuckDB's CSV reader is given leave to read. */
export interface LongRecord {
  /** The line the record starts on, 1-based, counting skipped lines. */
  line: number;
  /** Its length in UTF-8 bytes, with the line break that ends it, as DuckDB counts it. */
  bytes: number;
}

/**
 * The first record after `skip` lines longer than `maxBytes`, a quoted field's line breaks
 * included. DuckDB's message for one ("CSV Error on Line: 1 … Maximum line size of 8388608 bytes
 * exceeded") names the first line of what its reader had under way, not the record's. Used only to
 * explain a file DuckDB refused.
 */
export async function findLongRecord(
  path: string,
  options: { delimiter: string; skip: number },
  maxBytes: number,
): Promise<LongRecord | undefined> {
  const walker = recordWalker(options);
  for await (const chunk of createReadStream(path, { encoding: 'utf8' }) as AsyncIterable<string>)
    for (const { line, bytes } of walker.push(chunk)) if (bytes > maxBytes) return { line, bytes };
  const last = walker.end();
  return last && last.bytes > maxBytes ? { line: last.line, bytes: last.bytes } : undefined;
}

/** A line of a CSV file that ends with another line break than the lines before it. */
export interface MixedLineBreak {
  /** 1-based, counting skipped lines. */
  line: number;
  found: 'CRLF' | 'LF';
  first: 'CRLF' | 'LF';
}

/**
 * The first line after `skip` lines that ends with another line break (\r\n or \n) than the first
 * line there, outside quoted fields (Excel ends rows with \r\n and breaks lines in a cell with \n).
 * DuckDB reads one kind a file, and its message for a file with both names neither. Used only to
 * explain a file DuckDB refused.
 */
export async function findMixedLineBreak(
  path: string,
  options: { delimiter: string; skip: number },
): Promise<MixedLineBreak | undefined> {
  let line = 1;
  let first: MixedLineBreak['first'] | undefined;
  let quoted = false;
  let closed = false;
  let fieldStart = true;
  let previous = '';
  for await (const chunk of createReadStream(path, { encoding: 'utf8' }) as AsyncIterable<string>)
    for (const c of chunk) {
      const afterClose = closed;
      closed = false;
      if (c === '\n' && !quoted) {
        const found = previous === '\r' ? 'CRLF' : 'LF';
        if (line > options.skip) {
          first ??= found;
          if (found !== first) return { line, found, first };
        }
        line += 1;
        fieldStart = true;
      } else if (c === '\n') line += 1;
      else if (c === '"') {
        if (quoted) {
          quoted = false;
          closed = true;
        } else if (fieldStart || afterClose) quoted = true;
        fieldStart = false;
      } else if (c === options.delimiter && !quoted) fieldStart = true;
      else if (c !== ' ' && c !== '\r') fieldStart = false;
      previous = c;
    }
  return undefined;
}

/** A record recordWalker hands back: the line it starts on, its fields and its UTF-8 bytes. */
interface WalkedRecord {
  line: number;
  fields: number;
  bytes: number;
}

/** The UTF-8 bytes of a UTF-16 code unit: each half of a surrogate pair is two of its four. */
const utf8Bytes = (unit: number) =>
  unit < 0x80 ? 1 : unit < 0x800 || (unit >= 0xd800 && unit < 0xe000) ? 2 : 3;

/**
 * Walks CSV text fed in chunks and hands back each record after `skip` lines with the line it
 * starts on, its number of fields and its length in UTF-8 bytes. Quoted fields may hold the delimiter, doubled quotes and line
 * breaks; blank lines are passed over, as DuckDB passes over them.
 */
function recordWalker(options: { delimiter: string; skip: number }) {
  const { delimiter, skip } = options;
  let line = 1;
  let recordLine = 1;
  let fields = 1;
  let bytes = 0;
  let empty = true;
  let quoted = false;
  let quoteLine = 0;
  // A quote opens a quoted field only where a field starts (RFC 4180, and DuckDB): one inside a
  // field (O"Brien) is text. Right after a closing quote, a quote is the second of a doubled one.
  let fieldStart = true;
  let closed = false;
  return {
    /** The records the text completes. */
    push(text: string): WalkedRecord[] {
      const records: WalkedRecord[] = [];
      for (let i = 0; i < text.length; i++) {
        const c = text[i];
        const afterClose = closed;
        closed = false;
        bytes += utf8Bytes(text.charCodeAt(i));
        if (c === '\n') {
          line += 1;
          if (quoted) continue;
          if (recordLine > skip && !empty) records.push({ line: recordLine, fields, bytes });
          recordLine = line;
          fields = 1;
          bytes = 0;
          empty = true;
          fieldStart = true;
        } else if (c === '"') {
          if (quoted) {
            quoted = false;
            closed = true;
          } else if (fieldStart || afterClose) {
            quoted = true;
            if (fieldStart) quoteLine = line;
          }
          fieldStart = false;
          empty = false;
        } else if (c === delimiter && !quoted) {
          fields += 1;
          empty = false;
          fieldStart = true;
        } else if (c !== '\r' && c !== '\uFEFF') {
          empty = false;
          // DuckDB reads 1, "a,b" as the field a,b: spaces before the quote still start the field.
          if (c !== ' ') fieldStart = false;
        }
      }
      return records;
    },
    /** The last record, when the text ends without a line break after it. */
    end(): WalkedRecord | undefined {
      return recordLine > skip && !empty ? { line: recordLine, fields, bytes } : undefined;
    },
    /** The line of a quote still open where the text ended, if one is. */
    openQuote: (): number | undefined => (quoted ? quoteLine : undefined),
  };
}

/**
 * The number of fields of a CSV file's first record after `skip` lines (its header, when it has
 * one), read from the file's first 64 KiB; undefined for a first record longer than that, or none.
 */
export function firstRecordFields(
  path: string,
  options: { delimiter: string; skip: number },
): number | undefined {
  const fd = openSync(path, 'r');
  let text: string;
  let whole: boolean;
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const read = readSync(fd, buffer, 0, buffer.length, 0);
    text = buffer.toString('utf8', 0, read);
    whole = read < buffer.length;
  } finally {
    closeSync(fd);
  }
  const walker = recordWalker(options);
  const [first] = walker.push(text);
  if (first) return first.fields;
  return whole ? walker.end()?.fields : undefined;
}

/**
 * A CSV file's header line (after `skip` lines, in its first 64 KiB) when it holds a NUL byte:
 * DuckDB cuts the column's name there when it is queried (a\0b read as a), so a column went by a
 * name the file never gave it.
 */
export function headerWithNul(path: string, skip: number): string | undefined {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const read = readSync(fd, buffer, 0, buffer.length, 0);
    const header = buffer.toString('utf8', 0, read).split('\n')[skip]?.replace(/\r$/, '');
    return header?.includes('\0') ? header : undefined;
  } finally {
    closeSync(fd);
  }
}
