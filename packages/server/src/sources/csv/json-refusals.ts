// A JSON or NDJSON export that DuckDB cannot read as records, or that inlet refuses before DuckDB
// reads it (nested too deep, a key holding NUL), named by its file and line, with what to change.
import { basename } from 'node:path';
import { InletError } from '../../errors/index.ts';
import type { MatchedFile } from './csv-file-list.ts';
import { NOTHING_IMPORTED } from './csv-refusals.ts';
import type { CsvFormat } from './csv-type-mapping.ts';
import type { JsonFinding } from './json-scan.ts';
import { findNotJsonObject } from './json-shape.ts';

/**
 * The deepest nesting of objects and arrays a JSON export may have. DuckDB's reader ended the
 * process with SIGSEGV for a record 10,000 levels deep; real exports nest a few levels.
 */
export const MAX_JSON_DEPTH = 1000;

/** A JSON export refused for what scanJsonExport found in it. */
export function refusedJson(where: string, file: string, found: JsonFinding, lines: boolean): InletError {
  if (found.problem === 'null') return notObject(where, file, found.line, 'null', lines);
  if (found.problem === 'nul-key')
    return new InletError(
      'SOURCE_DATA_INVALID',
      `${where}: line ${found.line} of ${file} has a key with a NUL character ("${found.key}"), which would cut its column's name short at the NUL; ` +
        `remove the \\u0000 from that key, or the key. ${NOTHING_IMPORTED}`,
    );
  return new InletError(
    'SOURCE_DATA_INVALID',
    `${where}: line ${found.line} of ${file} nests objects or arrays more than ${MAX_JSON_DEPTH} levels deep, more than DuckDB's JSON reader can read; ` +
      `write that value flatter (or as a JSON string), or remove the line. ${NOTHING_IMPORTED}`,
  );
}

/** A JSON export refused for the record on `line`, `text`, that is not an object. */
const notObject = (where: string, file: string, line: number, text: string, lines: boolean) =>
  new InletError(
    'SOURCE_DATA_INVALID',
    `${where}: line ${line} of ${file} is ${text}, not a JSON object; ${lines ? 'each line' : 'each record'} must be a JSON object ({"column": value, …}), whose keys are the columns. ` +
      `Correct or remove that line. ${NOTHING_IMPORTED}`,
  );

/** The line of the i-th file read that a line of what was read of it is (they differ for a part of a file). */
export type LineOf = (i: number, line: number) => Promise<number>;

/** DuckDB's words for a JSON object with a key twice: the file, where in it, the object and the key. */
export const DUPLICATE_KEY =
  /in file "(.*?)", in (line|record\/value) (\d+): Object (.*) has duplicate key "(.*)"/s;

/** A JSON export refused for an object with a key twice, which DuckDB's message named by the file's path. */
export async function duplicateKey(
  where: string,
  found: RegExpExecArray,
  readable: string[],
  todo: MatchedFile[],
  lineOf: LineOf,
) {
  const [, path = '', unit, record = '', object = '', key = ''] = found;
  const i = readable.indexOf(path);
  const file = basename(todo[i]?.path ?? path);
  const at = unit === 'line' && i !== -1 ? await lineOf(i, Number(record)) : record;
  const text = object.length > 200 ? `${object.slice(0, 200)}…` : object;
  return new InletError(
    'SOURCE_DATA_INVALID',
    `${where}: ${unit === 'line' ? 'line' : 'record'} ${at} of ${file} holds an object with the key "${key}" twice (${text}); ` +
      `each key is a column, so an object may hold it once: remove one of them. ${NOTHING_IMPORTED}`,
  );
}

/** DuckDB's words for a JSON export with a record that is not an object, or only objects without keys. */
export const NOT_RECORDS = /expected records, but got non-record JSON/;

/**
 * A JSON export DuckDB refused for a record that is not an object, named by its first such line.
 * Left to guess, DuckDB read such a file as one column "json" of JSON values.
 */
export async function notRecords(
  where: string,
  readable: string[],
  todo: MatchedFile[],
  format: CsvFormat,
  lineOf: LineOf,
) {
  const lines = format === 'ndjson';
  const each = lines ? 'each line must be a JSON object' : 'each record must be a JSON object';
  for (const [i, path] of readable.entries()) {
    const found = await findNotJsonObject(path, { lines }).catch(() => undefined);
    if (!found) continue;
    const text = found.text.length > 200 ? `${found.text.slice(0, 200)}…` : found.text;
    return notObject(where, basename(todo[i]?.path ?? ''), await lineOf(i, found.line), text, lines);
  }
  return new InletError(
    'SOURCE_DATA_INVALID',
    `${where}: ${todo.map((f) => basename(f.path)).join(', ')} holds a record that is not a JSON object, or only objects without keys; ` +
      `${each} ({"column": value, …}), whose keys are the columns. ${NOTHING_IMPORTED}`,
  );
}
