/** A function call in a parse tree of json_serialize_sql: its name, and whether it is a table function (FROM f(…)). */
export interface SqlCall {
  name: string;
  table: boolean;
}

/** Every function call in a json_serialize_sql tree, names lower-cased. */
export function* sqlCalls(node: unknown, table = false): Generator<SqlCall> {
  if (Array.isArray(node)) {
    for (const item of node) yield* sqlCalls(item);
    return;
  }
  if (!node || typeof node !== 'object') return;
  const record = node as Record<string, unknown>;
  if (typeof record.function_name === 'string') yield { name: record.function_name.toLowerCase(), table };
  // A table function is the "function" of a TABLE_FUNCTION reference; its arguments are not.
  for (const [key, value] of Object.entries(record))
    yield* sqlCalls(value, record.type === 'TABLE_FUNCTION' && key === 'function');
}
