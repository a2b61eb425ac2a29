import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlString } from '../lake/index.ts';

export type SelectAnalysis = { ok: true; tables: string[] } | { ok: false; reason: string };

function collect(node: unknown, tables: Set<string>, ctes: Set<string>): void {
  if (Array.isArray(node)) {
    for (const item of node) collect(item, tables, ctes);
    return;
  }
  if (!node || typeof node !== 'object') return;
  const record = node as Record<string, unknown>;
  const map = (record.cte_map as { map?: Array<{ key?: string }> } | undefined)?.map;
  for (const entry of map ?? []) if (entry.key) ctes.add(entry.key.toLowerCase());
  if (record.type === 'BASE_TABLE' && typeof record.table_name === 'string') {
    const schema =
      typeof record.schema_name === 'string' && record.schema_name ? `${record.schema_name}.` : '';
    tables.add(`${schema}${record.table_name}`);
  }
  for (const value of Object.values(record)) collect(value, tables, ctes);
}

/**
 * Checks with DuckDB's parser (not a regex) that the text is one SELECT, and lists the tables and
 * views it reads, CTE names left out: these are a model's inputs for lineage and for knowing
 * whether everything it needs exists.
 */
export async function analyzeSelect(connection: DuckDBConnection, sql: string): Promise<SelectAnalysis> {
  const reader = await connection.runAndReadAll(`SELECT json_serialize_sql(${sqlString(sql)})::VARCHAR`);
  const tree = JSON.parse(String(reader.getRows()[0]?.[0])) as {
    error: boolean;
    error_message?: string;
    statements?: unknown[];
  };
  if (tree.error) {
    const message = tree.error_message ?? '';
    return {
      ok: false,
      reason: /Only SELECT/i.test(message) ? 'a model must be one SELECT statement' : message,
    };
  }
  if ((tree.statements?.length ?? 0) !== 1)
    return { ok: false, reason: `a model must be one SELECT statement, not ${tree.statements?.length ?? 0}` };
  const tables = new Set<string>();
  const ctes = new Set<string>();
  collect(tree.statements, tables, ctes);
  return { ok: true, tables: [...tables].filter((t) => !ctes.has(t.toLowerCase())).sort() };
}
