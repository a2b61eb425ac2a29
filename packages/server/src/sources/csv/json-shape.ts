import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { createInterface } from 'node:readline';

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
