import type { DuckDBConnection } from '@duckdb/node-api';
import { parseSqlTree, unsafeTableFunction } from '../engine/index.ts';
import { sqlString } from '../lake/index.ts';
import { sqlCode } from '../sql/index.ts';

export type SelectAnalysis =
  | { ok: true; tables: string[] }
  /** unparsed: DuckDB's parser refused the text, and reason is its message. */
  | { ok: false; reason: string; unparsed?: true };

interface CteEntry {
  key?: string;
  value?: { query?: { node?: { type?: string } } };
}

/**
 * Adds the tables the tree reads to tables. A name in ctes is a CTE, not a table; a CTE's own query
 * sees the CTEs before it and, only when recursive, itself: in WITH events AS (SELECT … FROM events)
 * the inner events is the table.
 */
function collect(node: unknown, tables: Set<string>, ctes: ReadonlySet<string>): void {
  if (Array.isArray(node)) {
    for (const item of node) collect(item, tables, ctes);
    return;
  }
  if (!node || typeof node !== 'object') return;
  const record = node as Record<string, unknown>;
  let visible = ctes;
  for (const entry of (record.cte_map as { map?: CteEntry[] } | undefined)?.map ?? []) {
    const key = entry.key?.toLowerCase();
    const recursive = entry.value?.query?.node?.type === 'RECURSIVE_CTE_NODE';
    collect(entry.value, tables, recursive && key ? new Set([...visible, key]) : visible);
    if (key) visible = new Set([...visible, key]);
  }
  if (record.type === 'BASE_TABLE' && typeof record.table_name === 'string') {
    const schema =
      typeof record.schema_name === 'string' && record.schema_name ? `${record.schema_name}.` : '';
    if (schema || !visible.has(record.table_name.toLowerCase())) tables.add(`${schema}${record.table_name}`);
  }
  for (const [field, value] of Object.entries(record))
    if (field !== 'cte_map') collect(value, tables, visible);
}

/**
 * Checks with DuckDB's parser (not a regex) that the text is one SELECT, and lists the tables and
 * views it reads, CTE names left out: these are a model's inputs for lineage and for knowing
 * whether everything it needs exists.
 */
export async function analyzeSelect(
  connection: DuckDBConnection,
  sql: string,
  /** What the SQL is, as the reasons name it: a model's, or a data test's. */
  subject: 'a model' | 'a test' = 'a model',
): Promise<SelectAnalysis> {
  // Set in the string below, a NUL ends it for DuckDB, which then failed on a string left open.
  const nul = sql.indexOf('\0');
  if (nul !== -1)
    return {
      ok: false,
      reason: `${subject} holds a NUL character (a zero byte) on line ${sql.slice(0, nul).split('\n').length}, which SQL cannot hold; remove it (a file saved as UTF-16 has one in every other byte: save it as UTF-8).`,
    };
  const reader = await connection.runAndReadAll(`SELECT json_serialize_sql(${sqlString(sql)})::VARCHAR`);
  const tree = parseSqlTree(String(reader.getRows()[0]?.[0])) as {
    error: boolean;
    error_message?: string;
    statements?: unknown[];
  };
  if (tree.error) {
    const message = tree.error_message ?? '';
    if (!/Only SELECT/i.test(message)) return { ok: false, reason: message, unparsed: true };
    // A PIVOT that must first find its columns' values is run by DuckDB as more than one statement.
    if (/(?<![\w$])pivot(?![\w$])/i.test(sqlCode(sql)))
      return {
        ok: false,
        reason: `${subject} must be one SELECT, and DuckDB runs a PIVOT without IN (…) as more than one statement; list the values it pivots on: PIVOT … ON k IN ('a', 'b') USING …`,
      };
    return { ok: false, reason: `${subject} must be one SELECT statement` };
  }
  // An empty file, or one of comments alone (a model just created, its SQL yet to write).
  if ((tree.statements?.length ?? 0) === 0)
    return {
      ok: false,
      reason: `${subject} holds no SQL (it is empty, or only comments); write its one SELECT statement`,
    };
  if ((tree.statements?.length ?? 0) !== 1)
    return {
      ok: false,
      reason: `${subject} must be one SELECT statement, not ${tree.statements?.length ?? 0}`,
    };
  const unsafe = unsafeTableFunction(tree.statements);
  if (unsafe)
    return {
      ok: false,
      reason: `${unsafe}() changes the DuckDB that builds every model, writes files of its own or runs SQL given as text, so ${subject} may not call it; read the tables with SQL written out (ref(), a source's <source>.<table>).`,
    };
  const tables = new Set<string>();
  collect(tree.statements, tables, new Set());
  return { ok: true, tables: [...tables].sort() };
}
