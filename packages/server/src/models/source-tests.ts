import { InletError } from '../errors/index.ts';
import type { DataTest, DataTestResult } from './data-tests.ts';
import { modelTests } from './data-tests.ts';
import type { DeclaredTable } from './dbt-sources.ts';
import type { ModelConfig } from './model-config.ts';
import type { Project } from './project-node.ts';
import { sourceParts, wildcardMatch } from './source-patterns.ts';
import { quoteName } from './sql-names.ts';

// The tests of source tables (a properties file's sources:), run by inlet test. They are picked as
// dbt picks them: by source:crm or source:crm.customers, or with everything when nothing is named.
// source:crm+ picks them too, with the models downstream of the source (the graph picks those).

const SOURCE_SELECTOR = /^source:(.*)$/;
/** dbt's graph operator after a source: selector (source:crm+, source:crm+2). */
const DOWNSTREAM = /\+\d*$/;

/**
 * The selectors split into dbt's source: ones (without source:) and the rest (models, folders, with
 * graph operators). source:crm+ is both: its source's tables, and the models the graph picks for it.
 */
export function splitSourceSelectors(selectors: string[]): { sources: string[]; models: string[] } {
  const sources: string[] = [];
  const models: string[] = [];
  for (const selector of selectors) {
    // An intersection (source:crm+,marts) picks models only: the graph's nodes both sides pick.
    const found = selector.includes(',') ? null : SOURCE_SELECTOR.exec(selector.trim());
    if (found) sources.push(found[1] ?? '');
    if (!found || DOWNSTREAM.test(selector.trim())) models.push(selector);
  }
  return { sources, models };
}

/**
 * The source tables a source: selector names (crm or crm.*: its tables; crm.customers: that one; with
 * dbt's wildcards, cr* or crm.cust*; after the project's name, shop.crm.customers). With a +,
 * the graph has checked the source, and one described by no properties file has no tests to pick.
 */
function pickTables(project: Project, selector: string): DeclaredTable[] {
  const downstream = DOWNSTREAM.test(selector);
  const parts = sourceParts(`source:${selector}`, selector.replace(DOWNSTREAM, ''), project.name);
  if ('error' in parts) throw new InletError('MODEL_NOT_FOUND', `${parts.error}.`);
  const { source, table } = parts;
  // By dbt's names (raw_crm.clients, as source() takes them) or inlet.yaml's (crm.customers, as the
  // catalog and the errors say), which a properties file's schema: and identifier: may map them to;
  // each with dbt's wildcards (cr*, crm.cust*).
  const names = (table: DeclaredTable) => [table.declared, table.name].map((name) => name.split(/\.(.*)/));
  const tables = [...project.sources.values()]
    .flatMap((entry) => [...entry.tables.values()])
    .filter((each) =>
      names(each).some(
        ([named = '', rest = '']) =>
          wildcardMatch(source, named) && (table === undefined || wildcardMatch(table, rest)),
      ),
    );
  if (tables.length > 0 || downstream) return tables;
  const described = [...project.sources.values()].flatMap((s) =>
    [...s.tables.values()].map((t) => (t.name === t.declared ? t.name : `${t.declared} (or ${t.name})`)),
  );
  throw new InletError(
    'MODEL_NOT_FOUND',
    `"source:${selector}" names no source table described under sources: in a properties file (${described.length > 0 ? `described: ${described.join(', ')}` : 'none is'}); name one as source:<source> or source:<source>.<table> (source:<source>+ also selects the models that read it).`,
  );
}

/** Refuses a source: selector that names no described source table, as inlet test would. */
export function checkSourceSelectors(project: Project, selectors: string[]): void {
  for (const selector of splitSourceSelectors(selectors).sources) pickTables(project, selector);
}

/** Whether a configuration has any test, of a column or of the table. */
const hasTests = (config: ModelConfig) =>
  config.tests.length > 0 ||
  Object.values(config.columns).some((column) => typeof column !== 'string' && column.tests.length > 0);

/**
 * The tests of the source tables selected (all of them when select is undefined, none excluded),
 * and an error for each such table with tests that is not in the lake yet.
 */
export function sourceTests(options: {
  project: Project;
  select: string[] | undefined;
  exclude: string[];
  views: Set<string>;
  render: (sql: string, self: string) => string;
}): { tests: DataTest[]; missing: DataTestResult[] } {
  const { project, views } = options;
  const all = [...project.sources.values()].flatMap((source) => [...source.tables.values()]);
  const chosen = options.select === undefined ? all : options.select.flatMap((s) => pickTables(project, s));
  const left = new Set(options.exclude.flatMap((s) => pickTables(project, s)).map((table) => table.name));
  const tests: DataTest[] = [];
  const missing: DataTestResult[] = [];
  for (const table of new Map(chosen.map((t) => [t.name, t])).values()) {
    if (left.has(table.name) || !hasTests(table.config)) continue;
    const relation = quoteName(table.name);
    if (views.has(table.name))
      tests.push(
        ...modelTests(table.name, table.config, relation, quoteName, (sql) => options.render(sql, relation)),
      );
    else
      missing.push({
        model: table.name,
        // Named for what failed, as a model's 'not built': 'synced' made a workflow's error read
        // 'tests failed: crm.orders: synced', the opposite of what happened.
        name: 'not synced',
        status: 'error',
        failures: 0,
        sample: [],
        message: `${table.name} is not in the lake yet; run inlet sync ${table.name.split('.')[0]} first`,
      });
  }
  return { tests, missing };
}
