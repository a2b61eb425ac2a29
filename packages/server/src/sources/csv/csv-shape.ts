import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { createInterface } from 'node:readline';

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
  const check = (record: { line: number; fields: number }): RaggedRecord | undefined => {
    if (expected === undefined) expected = record.fields;
    else if (record.fields !== expected) return { ...record, expected };
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

/** The first byte of a file that is not UTF-8: its line and the character of the line it is at, 1-based. */
export interface NotUtf8 {
  line: number;
  character: number;
  byte: number;
}

/**
 * Where a file stops being UTF-8, reading its bytes until then; undefined for a file that is UTF-8
 * throughout. DuckDB's message for such a file names the line its reader was at, often the header,
 * and prints it. Used only to explain a file DuckDB refused.
 */
export async function findNotUtf8(path: string): Promise<NotUtf8 | undefined> {
  let line = 1;
  let character = 0;
  // The sequence under way: its first byte, where it began, the bytes still to come and the range
  // its next byte must be in (overlong forms, surrogates and code points past U+10FFFF are not UTF-8).
  let lead = 0;
  let leadLine = 1;
  let leadCharacter = 0;
  let pending = 0;
  let low = 0x80;
  let high = 0xbf;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    for (const byte of chunk) {
      if (pending > 0) {
        if (byte < low || byte > high) return { line: leadLine, character: leadCharacter, byte: lead };
        pending -= 1;
        low = 0x80;
        high = 0xbf;
        continue;
      }
      if (byte === 0x0a) {
        line += 1;
        character = 0;
        continue;
      }
      character += 1;
      if (byte < 0x80) continue;
      lead = byte;
      leadLine = line;
      leadCharacter = character;
      if (byte >= 0xc2 && byte <= 0xdf) pending = 1;
      else if (byte >= 0xe0 && byte <= 0xef) {
        pending = 2;
        if (byte === 0xe0) low = 0xa0;
        if (byte === 0xed) high = 0x9f;
      } else if (byte >= 0xf0 && byte <= 0xf4) {
        pending = 3;
        if (byte === 0xf0) low = 0x90;
        if (byte === 0xf4) high = 0x8f;
      } else return { line, character, byte };
    }
  }
  return pending > 0 ? { line: leadLine, character: leadCharacter, byte: lead } : undefined;
}

/**
 * Walks CSV text fed in chunks and hands back each record after `skip` lines with the line it
 * starts on and its number of fields. Quoted fields may hold the delimiter, doubled quotes and line
 * breaks; blank lines are passed over, as DuckDB passes over them.
 */
function recordWalker(options: { delimiter: string; skip: number }) {
  const { delimiter, skip } = options;
  let line = 1;
  let recordLine = 1;
  let fields = 1;
  let empty = true;
  let quoted = false;
  let quoteLine = 0;
  // A quote opens a quoted field only where a field starts (RFC 4180, and DuckDB): one inside a
  // field (O"Brien) is text. Right after a closing quote, a quote is the second of a doubled one.
  let fieldStart = true;
  let closed = false;
  return {
    /** The records the text completes. */
    push(text: string): Array<{ line: number; fields: number }> {
      const records: Array<{ line: number; fields: number }> = [];
      for (let i = 0; i < text.length; i++) {
        const c = text[i];
        const afterClose = closed;
        closed = false;
        if (c === '\n') {
          line += 1;
          if (quoted) continue;
          if (recordLine > skip && !empty) records.push({ line: recordLine, fields });
          recordLine = line;
          fields = 1;
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
    end(): { line: number; fields: number } | undefined {
      return recordLine > skip && !empty ? { line: recordLine, fields } : undefined;
    },
    /** The line of a quote still open where the text ended, if one is. */
    openQuote: (): number | undefined => (quoted ? quoteLine : undefined),
  };
}

/**
 * Whether a file holds nothing but white space (or nothing at all): an export cut short or failed
 * upstream. DuckDB reads such a file as a table of one column "column0" and no rows, or one row of
 * NULLs, which would replace a full table's rows. Reads until the first other byte, so a file with
 * content costs one small read.
 */
export function isBlankFile(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    for (let at = 0; ; ) {
      const read = readSync(fd, buffer, 0, buffer.length, at);
      if (read === 0) return true;
      for (let i = 0; i < read; i++) {
        const byte = buffer[i] as number;
        // Space, tab, CR, LF, and the bytes of a UTF-8 byte order mark (EF BB BF) at the start.
        const bom = at + i < 3 && byte === [0xef, 0xbb, 0xbf][at + i];
        if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0d && byte !== 0x0a && !bom) return false;
      }
      at += read;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Whether a JSON file is an array of no records (`[]`, white space around it allowed): an export of
 * nothing, as an empty file is. Reads the file's first 64 KiB only; a longer file holds records.
 */
export function isEmptyJsonArray(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const read = readSync(fd, buffer, 0, buffer.length, 0);
    if (read === buffer.length) return false;
    return /^\uFEFF?\s*\[\s*\]\s*$/.test(buffer.toString('utf8', 0, read));
  } finally {
    closeSync(fd);
  }
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

/** Whether a file starts with UTF-8's byte order mark, as Excel's "CSV UTF-8" export does. */
export function hasUtf8Bom(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(3);
    return readSync(fd, head, 0, 3, 0) === 3 && head.equals(Buffer.from([0xef, 0xbb, 0xbf]));
  } finally {
    closeSync(fd);
  }
}

/** Whether a file starts with gzip's magic bytes (a .csv.gz), which the checks here would read as text. */
export function isGzip(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(2);
    return readSync(fd, head, 0, 2, 0) === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    closeSync(fd);
  }
}

/**
 * The UTF-16 encoding a file's byte order mark names (Excel's "Unicode Text" export is UTF-16LE
 * with one), or undefined. Read as UTF-8, such a file is a NUL byte in every other place, and
 * DuckDB's complaint about it was of lines with too few fields.
 */
export function utf16Encoding(path: string): 'utf-16le' | 'utf-16be' | undefined {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(2);
    if (readSync(fd, head, 0, 2, 0) < 2) return undefined;
    if (head[0] === 0xff && head[1] === 0xfe) return 'utf-16le';
    if (head[0] === 0xfe && head[1] === 0xff) return 'utf-16be';
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** A record of a JSON export that is not an object: its line, 1-based, and its text. */
export interface NotJsonObject {
  line: number;
  text: string;
}

/**
 * The first line of a JSON export that is a whole JSON value other than an object ([1,2], 42, "x"),
 * reading it a line at a time; in a JSON array (`lines: false`), the first line that is an array
 * with an element that is not one. Lines that are not a whole value (a pretty-printed object) are
 * passed over. Used only to explain a file DuckDB refused for records that are not objects.
 */
export async function findNotJsonObject(
  path: string,
  options: { lines: boolean },
): Promise<NotJsonObject | undefined> {
  const input = createInterface({
    input: createReadStream(path, 'utf8'),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  const notObject = (value: unknown) => value !== null && (typeof value !== 'object' || Array.isArray(value));
  let line = 0;
  try {
    for await (const raw of input) {
      line += 1;
      let value: unknown;
      try {
        value = JSON.parse(raw.replace(/^\uFEFF/, ''));
      } catch {
        continue;
      }
      // null is refused before DuckDB reads the file (scanJsonExport), which reads it as a row of NULLs.
      if (!options.lines && Array.isArray(value)) {
        const element = value.find(notObject);
        if (element !== undefined) return { line, text: JSON.stringify(element) };
      } else if (notObject(value)) return { line, text: raw.trim() };
    }
    return undefined;
  } finally {
    input.close();
  }
}

/**
 * The number of lines of a file when nothing but white space follows its first `skip` lines, or
 * undefined once a line after them holds something. Reads until that line, so a file with content
 * costs a small read. DuckDB's message for such a file was its CSV sniffer's, naming no line.
 */
export function linesWhenSkipLeavesNothing(path: string, skip: number): number | undefined {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    let lines = 0;
    let open = false;
    for (let at = 0; ; ) {
      const read = readSync(fd, buffer, 0, buffer.length, at);
      if (read === 0) return lines + (open ? 1 : 0);
      for (let i = 0; i < read; i++) {
        const byte = buffer[i] as number;
        if (byte === 0x0a) {
          lines += 1;
          open = false;
          continue;
        }
        open = true;
        const bom = at + i < 3 && byte === [0xef, 0xbb, 0xbf][at + i];
        if (lines >= skip && byte !== 0x20 && byte !== 0x09 && byte !== 0x0d && !bom) return undefined;
      }
      at += read;
    }
  } finally {
    closeSync(fd);
  }
}
