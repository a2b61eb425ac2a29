import { createReadStream } from 'node:fs';

/** What a JSON export holds that DuckDB reads wrongly or not at all, and on which line (1-based). */
export type JsonFinding =
  | { line: number; problem: 'deep' }
  | { line: number; problem: 'null' }
  | { line: number; problem: 'nul-key'; key: string };

/**
 * The first line of a JSON (or JSON lines, `lines`) file, counting bytes outside strings, where:
 * - objects and arrays nest more than `maxDepth` levels (`deep`): DuckDB's JSON reader recurses once
 *   a level, and a record 10,000 levels deep ended the process with SIGSEGV;
 * - a record is `null` (`null`): a line null, or a null element of the array a .json holds, which
 *   DuckDB reads as a row of NULLs where every other record that is not an object is refused;
 * - a key holds a NUL character, \u0000 (`nul-key`, with the key as written, cut at 200 bytes):
 *   DuckDB keeps it in the column's (or field's) name, which a query then shows cut at the NUL.
 * Undefined when there is none. One pass, at disk speed, before DuckDB reads the file.
 */
export async function scanJsonExport(
  path: string,
  options: { maxDepth: number; lines: boolean },
): Promise<JsonFinding | undefined> {
  let line = 1;
  let depth = 0;
  let quoted = false;
  let escaped = false;
  // The \u escape being read in a string (its hex digits so far), whether the string holds a NUL,
  // its bytes as written (up to 200), and where it started: a key with a NUL is refused.
  let hex: string | undefined;
  let nul = false;
  let text: number[] = [];
  let textLine = 1;
  let afterNulString = false;
  // The array a .json holds its records in: they are one level down.
  let inArray = false;
  // The letters of a literal (null, true, 42e1…) at the depth of records, and its line.
  let word = '';
  let wordLine = 1;
  const atRecords = () => depth === 0 || (!options.lines && inArray && depth === 1);
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>)
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i] as number;
      if (quoted) {
        if (hex !== undefined) {
          hex += String.fromCharCode(byte);
          if (hex.length === 4) {
            if (hex === '0000') nul = true;
            hex = undefined;
          }
        } else if (escaped) {
          escaped = false;
          if (byte === 0x75) hex = '';
        } else if (byte === 0x5c) escaped = true;
        else if (byte === 0x22) {
          quoted = false;
          afterNulString = nul;
          continue;
        } else if (byte === 0x0a) line += 1;
        if (text.length < 200) text.push(byte);
        continue;
      }
      if (afterNulString && byte !== 0x20 && byte !== 0x09 && byte !== 0x0d && byte !== 0x0a) {
        afterNulString = false;
        // A string followed by a colon is a key.
        if (byte === 0x3a)
          return { line: textLine, problem: 'nul-key', key: Buffer.from(text).toString('utf8') };
      }
      const letter = byte >= 0x61 && byte <= 0x7a;
      if (letter && atRecords()) {
        if (word === '') wordLine = line;
        word += String.fromCharCode(byte);
        continue;
      }
      if (word === 'null') return { line: wordLine, problem: 'null' };
      word = '';
      if (byte === 0x22) {
        quoted = true;
        nul = false;
        text = [];
        textLine = line;
      } else if (byte === 0x7b || byte === 0x5b) {
        if (depth === 0) inArray = byte === 0x5b;
        depth += 1;
        if (depth > options.maxDepth) return { line, problem: 'deep' };
      } else if (byte === 0x7d || byte === 0x5d) depth = Math.max(0, depth - 1);
      else if (byte === 0x0a) line += 1;
    }
  return word === 'null' ? { line: wordLine, problem: 'null' } : undefined;
}
