import { closeSync, createReadStream, openSync, readSync } from 'node:fs';

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
