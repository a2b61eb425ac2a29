/** A function call in a parse tree of json_serialize_sql: its name, and whether it is a table function (FROM f(…)). */
export interface SqlCall {
  name: string;
  table: boolean;
}

/**
 * json_serialize_sql's text as a tree. DuckDB writes a literal that overflows a double (1e400) as a
 * bare Infinity (or NaN), which JSON.parse refuses; outside strings they become null, as the tree
 * is read for its names only.
 */
export function parseSqlTree(text: string): unknown {
  return JSON.parse(
    text.replace(/"(?:[^"\\]|\\.)*"|-?Infinity|NaN/g, (token) => (token.startsWith('"') ? token : 'null')),
  );
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

/**
 * Table functions that change the DuckDB instance for every statement after them or write files
 * (enable_logging(storage := 'file', storage_path := …) writes its log there, and aborts the whole
 * process on a path the configuration refuses; lock_configuration does not stop them), or that run
 * SQL given as a string, past the checks of the statement around them. Neither a query nor a model
 * may call them.
 */
const UNSAFE_TABLE_FUNCTIONS = new Set([
  'enable_logging',
  'disable_logging',
  'truncate_duckdb_logs',
  'enable_profiling',
  'disable_profiling',
  'enable_peg_parser',
  'disable_peg_parser',
  'checkpoint',
  'force_checkpoint',
  'query',
  'query_table',
  'json_execute_serialized_sql',
]);

/** The first table function in a json_serialize_sql tree that no SQL of people may call, if any. */
export function unsafeTableFunction(tree: unknown): string | undefined {
  for (const call of sqlCalls(tree))
    if (call.table && UNSAFE_TABLE_FUNCTIONS.has(call.name)) return call.name;
  return undefined;
}

/** The tables a json_serialize_sql tree reads by name (a file's path, for FROM '…/x.parquet'). */
export function* tableNames(node: unknown): Generator<string> {
  if (Array.isArray(node)) {
    for (const item of node) yield* tableNames(item);
    return;
  }
  if (!node || typeof node !== 'object') return;
  const record = node as Record<string, unknown>;
  if (record.type === 'BASE_TABLE' && typeof record.table_name === 'string') yield record.table_name;
  for (const value of Object.values(record)) yield* tableNames(value);
}
