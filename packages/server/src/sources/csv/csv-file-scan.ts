// Reading an export file's bytes: where its records end, the digests of its start, its first lines.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { MultiByteChars } from './csv-type-mapping.ts';

/** The SHA-256 of no bytes: the digest of what was imported of a file of which nothing was. */
export const EMPTY_DIGEST = createHash('sha256').digest('hex');

/** How a CSV or TSV file's fields are told apart in its bytes. */
export interface CsvBytes {
  /** Its delimiter, as its bytes in the file: a line break in a quoted field ends no line. */
  delimiter?: Buffer | undefined;
  /** Its encoding's characters whose second byte may be a delimiter's (Shift_JIS, GBK, Big5…). */
  multiByte?: MultiByteChars | undefined;
  /** The lines skip: passes over (a title, an export date), a quote on which opens no field. */
  skipLines?: number | undefined;
}

/**
 * Where CSV records end in bytes fed in chunks: at a line break outside a quoted field. A quote
 * opens a field only at its start (spaces before it allowed), as csv-shape's walker and DuckDB read
 * it, and none on the first `skip` lines looked at, which skip: passes over as lines. `delimiter` is its bytes in the file's encoding (three for a full-width ；in UTF-8), matched
 * across chunks. Byte by byte, which holds for the ASCII-compatible encodings a file that is resumed
 * may be in: the other bytes of a character are never a quote or a line break. They may be a
 * delimiter in Shift_JIS, GBK, GB18030, Big5 or CP949 (`multiByte`), whose bytes after the first
 * are stepped over.
 */
function recordEnds(delimiter: Buffer, multiByte: MultiByteChars | undefined, skip: number) {
  let quoted = false;
  // The byte before opened a character of more than one byte.
  let lead = false;
  let closed = false;
  let fieldStart = true;
  // How many of the delimiter's bytes the bytes read so far end with, outside a quoted field.
  let matched = 0;
  // Where the quoted field under way opened (its offset from `at`), the line breaks before it, and
  // whether a line break is in it.
  let openedAt = 0;
  let openedAfter = 0;
  let broken = false;
  let lineBreaks = 0;
  return {
    /** The index of the last record end in chunk[from…], or -1; `at` is the chunk's offset in the file. */
    last(chunk: Buffer, from: number, bom: number, at: number): number {
      let end = -1;
      for (let i = from; i < chunk.length; i++) {
        const byte = chunk[i] as number;
        const afterClose = closed;
        closed = false;
        // A second byte is never a quote, a space or a line break; it ends a delimiter (；) but starts none.
        const second = lead && multiByte?.trail(byte) === true;
        lead = !second && multiByte?.lead(byte) === true;
        matched = quoted
          ? 0
          : byte === delimiter[matched] && (matched > 0 || !second)
            ? matched + 1
            : byte === delimiter[0] && !second
              ? 1
              : 0;
        if (byte === 10) {
          lineBreaks += 1;
          broken ||= quoted;
          if (quoted) continue;
          end = i;
          fieldStart = true;
        } else if (byte === 0x22 && lineBreaks >= skip) {
          if (quoted) {
            quoted = false;
            closed = true;
          } else if (fieldStart || afterClose) {
            quoted = true;
            // The second of a doubled quote reopens the field the first opened.
            if (fieldStart) {
              openedAt = at + i;
              openedAfter = lineBreaks;
              broken = false;
            }
          }
          fieldStart = false;
        } else if (matched === delimiter.length) {
          matched = 0;
          fieldStart = true;
        } else if (byte !== 0x20 && byte !== 0x0d && i >= bom) fieldStart = false;
      }
      return end;
    },
    /**
     * Where a quoted field still open opened, when a line break is in it (lines that wait for its
     * quote), and the line breaks before it in the bytes looked at.
     */
    open: (): { at: number; lineBreaks: number } | undefined =>
      quoted && broken ? { at: openedAt, lineBreaks: openedAfter } : undefined,
  };
}

/**
 * One pass over a file: the SHA-256 of its bytes, of its first `prefixBytes` (undefined when it is
 * shorter) and of its bytes up to the end of its last line, and where that is. Read as a stream, so
 * a large export does not hold up the process. With a `delimiter` (CSV), a line break inside a quoted
 * field after the first `prefixBytes` ends no line: a field still being written waits whole.
 */
export async function scanFile(path: string, prefixBytes: number, csv?: CsvBytes) {
  const whole = createHash('sha256');
  const prefix = createHash('sha256');
  // The lines skip: passes over are in the bytes looked at only when they start with the file's.
  const skip = prefixBytes === 0 ? (csv?.skipLines ?? 0) : 0;
  const records = csv?.delimiter === undefined ? undefined : recordEnds(csv.delimiter, csv.multiByte, skip);
  let size = 0;
  let lineEnd = 0;
  let lineDigest = EMPTY_DIGEST;
  // Line breaks in the bytes not looked at for records, so the line of a quote left open is known
  // from this one pass, where the file was read again up to the quote to count them.
  let prefixLineBreaks = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    if (size < prefixBytes) prefix.update(chunk.subarray(0, prefixBytes - size));
    const from = Math.max(0, prefixBytes - size);
    if (records) prefixLineBreaks += lineBreaksIn(chunk.subarray(0, from));
    // A UTF-8 byte order mark before the first field does not stop a quote from opening it.
    const bom = size === 0 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf ? 3 : 0;
    const newline = records
      ? from < chunk.length
        ? records.last(chunk, from, bom, size)
        : -1
      : chunk.lastIndexOf(10);
    if (newline === -1) whole.update(chunk);
    else {
      whole.update(chunk.subarray(0, newline + 1));
      lineEnd = size + newline + 1;
      lineDigest = whole.copy().digest('hex');
      whole.update(chunk.subarray(newline + 1));
    }
    size += chunk.length;
  }
  const digest = whole.digest('hex');
  const open = records?.open();
  return {
    size,
    digest,
    lineEnd,
    lineDigest,
    prefix: size >= prefixBytes ? prefix.digest('hex') : undefined,
    /** Where a quoted field with a line break, still open at the end, opened, and its 1-based line. */
    openQuote: open && { at: open.at, line: prefixLineBreaks + open.lineBreaks + 1 },
  };
}

function lineBreaksIn(bytes: Buffer): number {
  let count = 0;
  for (let at = bytes.indexOf(10); at !== -1; at = bytes.indexOf(10, at + 1)) count += 1;
  return count;
}

/**
 * The SHA-256 of a file's first bytes, for each of `offsets` no longer than it, in one read up to
 * the largest: the bytes imported from each file gone, which a file renamed to another starts with.
 */
export async function prefixDigests(path: string, offsets: number[]): Promise<Map<number, string>> {
  const sorted = [...new Set(offsets)].sort((a, b) => a - b);
  const digests = new Map<number, string>();
  const last = sorted.at(-1) ?? 0;
  if (last === 0) return digests;
  const hash = createHash('sha256');
  let size = 0;
  let next = 0;
  for await (const chunk of createReadStream(path, { end: last - 1 }) as AsyncIterable<Buffer>) {
    let at = 0;
    for (let offset = sorted[next]; offset !== undefined && offset <= size + chunk.length; ) {
      hash.update(chunk.subarray(at, offset - size));
      at = offset - size;
      digests.set(offset, hash.copy().digest('hex'));
      next += 1;
      offset = sorted[next];
    }
    hash.update(chunk.subarray(at));
    size += chunk.length;
  }
  return digests;
}

/** What one pass over a file finds (scanFile). */
export type FileScan = Awaited<ReturnType<typeof scanFile>>;

/** The first `lines` lines of a file (all of it when it has fewer). */
export async function firstLines(path: string, lines: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let left = lines;
  if (left === 0) return Buffer.alloc(0);
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    let newline = chunk.indexOf(10);
    while (newline !== -1) {
      left -= 1;
      if (left === 0) return Buffer.concat([...chunks, chunk.subarray(0, newline + 1)]);
      newline = chunk.indexOf(10, newline + 1);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The number of line breaks in a file's first `bytes` bytes. */
export async function linesBefore(path: string, bytes: number): Promise<number> {
  let lines = 0;
  if (bytes === 0) return 0;
  for await (const chunk of createReadStream(path, { end: bytes - 1 }) as AsyncIterable<Buffer>)
    lines += lineBreaksIn(chunk);
  return lines;
}
