import { templateCode } from './model-template.ts';
import type { ProjectNode } from './project-node.ts';

// dbt's source:crm+ selects the models downstream of a source: those that read its tables. A model
// reads one through {{ source('crm', 'customers') }} or, as inlet's models may, by name (crm.customers).

const asRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Whether the node reads the source's table, by source() or by name; with no table, any of the
 * source's (by name, any of tables, when they are known, so that an alias crm.id is no read).
 */
export function readsSource(
  node: ProjectNode,
  source: string,
  table: string | undefined,
  tables: string[] | undefined,
): boolean {
  if (table === undefined && tables !== undefined)
    return tables.some((each) => readsSource(node, source, each, tables));
  const named = (read: string) =>
    table === undefined ? read.startsWith(`${source}.`) : read === `${source}.${table}`;
  if (node.sources.some(named)) return true;
  if (node.kind !== 'model') return false;
  // A name in the code (not in a comment or a string), quoted or not: crm.customers, "crm"."customers".
  const part = (name: string) => `(?:${asRegExp(name)}|"${asRegExp(name.replaceAll('"', '""'))}")`;
  const last = table === undefined ? '(?:[A-Za-z_]|")' : `${part(table)}(?![\\w$"])`;
  return new RegExp(`(?<![\\w$."])${part(source)}\\s*\\.\\s*${last}`, 'i').test(templateCode(node.sql));
}
