import type {
  DuckDBPreparedStatement,
  DuckDBResult,
  DuckDBResultReader,
  DuckDBValueConverter,
  Json,
} from '@duckdb/node-api';
import { ResultReturnType } from '@duckdb/node-api';
import type { QueryColumn } from './query-types.ts';
import { createJsonParser, tooDeepToConvert, typeName, withinDepth } from './result-values.ts';

/** Starts a prepared statement streamed. */
export const stream = (prepared: DuckDBPreparedStatement) => prepared.stream();

/** Runs nothing: for a statement whose columns, known once prepared, are all that is wanted. */
export const planOnly = async () => undefined;

/** The chunks of an export of no rows (maxRows 0), which is never run. */
export const NO_CHUNKS: AsyncIterable<Json[][]> = {
  [Symbol.asyncIterator]: () => ({ next: async () => ({ done: true, value: undefined }) }),
};

/** A streamed result that ended because it failed, not because it was read to the end. */
export class StreamFailed extends Error {}

/**
 * The rows of a streamed result, chunk by chunk. DuckDB's Node bindings end a stream that fails
 * part-way exactly like one read to the end (both fetch NULL, and the error is not passed on), so
 * a result whose return type turned INVALID is a failure here, never a quietly shorter result.
 */
export async function* streamedRows(
  result: DuckDBResult,
  convert: DuckDBValueConverter<Json>,
  jsonText?: boolean,
): AsyncGenerator<Json[][]> {
  const parseJson = createJsonParser(result.columnTypes(), jsonText);
  const names = result.columnNames();
  try {
    for await (const rows of result.yieldConvertedRows(convert))
      yield withinDepth(names, parseJson ? parseJson(rows) : rows);
  } catch (error) {
    throw tooDeepToConvert(error);
  }
  if (result.returnType === ResultReturnType.INVALID) throw new StreamFailed();
}

/** The rows of a result read whole (runAndReadAll), converted as streamedRows converts each chunk. */
export function readRows(
  whole: DuckDBResultReader,
  convert: DuckDBValueConverter<Json>,
  jsonText?: boolean,
): Json[][] {
  const parseJson = createJsonParser(whole.columnTypes(), jsonText);
  let converted: Json[][];
  try {
    converted = whole.convertRows(convert);
  } catch (error) {
    throw tooDeepToConvert(error);
  }
  return withinDepth(whole.columnNames(), parseJson ? parseJson(converted) : converted);
}

/**
 * Column names made distinct (SELECT 1 a, 2 a gives a and a:1), so that NDJSON objects and
 * anything else keyed by name keep every column.
 */
function distinctNames(names: string[]): string[] {
  const given = new Set(names);
  const used = new Set<string>();
  return names.map((name) => {
    let distinct = name;
    for (let n = 1; used.has(distinct); n++) {
      distinct = `${name}:${n}`;
      if (given.has(distinct)) distinct = name;
    }
    used.add(distinct);
    return distinct;
  });
}

/** The columns of a result, or of a prepared statement (known before it runs). */
export const columnsOf = (statement: DuckDBResult | DuckDBPreparedStatement): QueryColumn[] => {
  const names = Array.from({ length: statement.columnCount }, (_, i) => statement.columnName(i));
  return distinctNames(names).map((name, i) => ({ name, type: typeName(statement.columnType(i)) }));
};
