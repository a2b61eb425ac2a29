import type { LakeTable } from '../lake/index.ts';
import type { BuildEngine, ModelConfig, Project } from '../models/index.ts';

// What the catalog says of a table, shared by the catalog, its pages for models not built yet, the
// docs check and a source's page; here so that none of them imports another for it.

export interface CatalogColumn {
  name: string;
  /** DuckDB's type; null for a model not built yet whose output cannot be told (it reads one not built either). */
  type: string | null;
  description: string | null;
  /** The table a description was taken from when the column has none of its own (same name upstream). */
  description_from?: string;
}

/**
 * What a table is, one word wherever a table's kind is given (inlet ls, the catalog, lineage, inlet
 * run's results): docs/catalog.md's "Kinds" lists them. source_table is a source's table
 * (crm.customers), where source is the source itself (lineage's source:crm).
 */
export type TableKind = 'events' | 'logs' | 'source_table' | 'model' | 'seed';

/**
 * A table's kind from what its manifest in the lake says (model for a mart: the project, when it has
 * the model, says seed); without one (an input since removed), from its name: a source's tables are
 * schema.name.
 */
export function tableKind(name: string, lake?: LakeTable['kind']): TableKind {
  if (name === 'events') return 'events';
  if (lake) return lake === 'source' ? 'source_table' : lake === 'logs' ? 'logs' : 'model';
  return name === 'access_logs' || name === 'app_logs'
    ? 'logs'
    : name.includes('.')
      ? 'source_table'
      : 'model';
}

export interface CatalogTable {
  name: string;
  kind: TableKind;
  /**
   * For models and seeds: how the model is written (seed for a CSV seed); null for any other table,
   * and for a mart no model defines now that is not a view. Always there: a program reads null, not a key
   * that is missing from one table's JSON and null in the list's.
   */
  materialized: 'view' | 'table' | 'incremental' | 'seed' | null;
  description: string | null;
  owner: string | null;
  /** Rows now; null for views, which have none of their own. */
  rows: number | null;
  bytes: number;
  files: number;
  partitions: { count: number; first: string | null; last: string | null };
  /** When its data last changed (newest file; for a view, the newest of what it reads). */
  updated_at: string | null;
  depends_on: string[];
  columns: CatalogColumn[];
  /**
   * For a model not built yet whose columns DuckDB cannot tell (it reads one in a cycle, or one
   * whose SQL DuckDB cannot describe): why its columns are only those its YAML documents.
   */
  columns_note?: string;
  /** Why it cannot be queried now (its view cannot be built); absent when it can. */
  unavailable?: string;
  /**
   * For a source's table: the source (crm of crm.customers) and the description a properties
   * file's sources: gives the source itself, null when none does.
   */
  source?: { name: string; description: string | null };
  /**
   * False for a model or seed of the project not built yet: its YAML, SQL, columns and lineage are
   * shown; it has no rows, files or freshness until inlet run builds it.
   */
  built: boolean;
}

export interface CatalogTableDetail extends CatalogTable {
  partition_list: string[];
  /** The view's SQL, for views; for a model not built yet, the SQL its first build runs. */
  sql?: string;
  tests: string[];
  upstream: string[];
  downstream: string[];
}

export interface Snapshot {
  tables: Map<string, CatalogTableDetail>;
  /** Each table's own column descriptions (YAML, manifest), by lower-case column name. */
  own: Map<string, Map<string, string>>;
  project: Project | undefined;
  /** Why the models project could not be read, when it could not: the catalog then shows the lake only. */
  projectError?: unknown;
  sources: string[];
  /** The log tables (access_logs, a file source's table:) with the log sources that write each. */
  logWriters: Map<string, string[]>;
  /** The DuckDB the look was taken with (its parser lists what a model's SQL reads). */
  db: BuildEngine;
}

/** Text without its leading and trailing blank lines (the first line keeps its indent). */
export function withoutBlankEnds(text: string): string {
  return text.replace(/^(?:[ \t]*\r?\n)+/, '').trimEnd();
}

/** A model's data tests as the catalog names them: not_null(account_id), unique(a, b), a SQL test's name. */
export function testNames(config: ModelConfig): string[] {
  return [
    ...Object.entries(config.columns).flatMap(([column, value]) =>
      typeof value === 'string'
        ? []
        : value.tests.map((t) => `${typeof t === 'string' ? t : Object.keys(t)[0]}(${column})`),
    ),
    ...config.tests.map((t, i) =>
      'unique' in t ? `unique(${t.unique.join(', ')})` : (t.name ?? `sql_${i + 1}`),
    ),
  ];
}
