import { createReadStream } from 'node:fs';

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
  const { delimiter, skip } = options;
  let line = 1;
  let recordLine = 1;
  let fields = 1;
  let empty = true;
  let quoted = false;
  let expected: number | undefined;
  for await (const chunk of createReadStream(path, { encoding: 'utf8' }) as AsyncIterable<string>) {
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i];
      if (c === '\n') {
        line += 1;
        if (quoted) continue;
        if (recordLine > skip && !empty) {
          if (expected === undefined) expected = fields;
          else if (fields !== expected) return { line: recordLine, fields, expected };
        }
        recordLine = line;
        fields = 1;
        empty = true;
      } else if (c === '"') {
        quoted = !quoted;
        empty = false;
      } else if (c === delimiter && !quoted) {
        fields += 1;
        empty = false;
      } else if (c !== '\r' && c !== '\uFEFF') {
        empty = false;
      }
    }
  }
  if (recordLine > skip && !empty && expected !== undefined && fields !== expected)
    return { line: recordLine, fields, expected };
  return undefined;
}
