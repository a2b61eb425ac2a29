import type { InletConfig } from '../config/index.ts';
import { dataLayout, type ReadLeases } from '../lake/index.ts';
import { createBuildEngine } from './build-engine.ts';
import { type DataTest, type DataTestResult, modelTests, runDataTests } from './data-tests.ts';
import type { ModelConfig } from './model-config.ts';
import { selectNodes } from './model-graph.ts';
import { openProject } from './model-runner.ts';
import { publishedValues, renderTemplate } from './model-template.ts';
import { quoteName } from './sql-names.ts';

/** Whether a configuration has any test, of a column or of the table. */
const hasTests = (config: ModelConfig) =>
  config.tests.length > 0 ||
  Object.values(config.columns).some((column) => typeof column !== 'string' && column.tests.length > 0);

/** Runs the data tests of the selected models (and tests/ files that read them) against what is published. */
export async function testModels(options: {
  config: InletConfig;
  selectors?: string[];
  /** Selectors whose nodes' tests are left out (dbt's --exclude). */
  exclude?: string[];
  /** This process's loader's, when it has one: see createBuildEngine. */
  leases?: ReadLeases;
  /** Stops the test running (a workflow's timeout, inlet stopping); the tests then reject with its reason. */
  signal?: AbortSignal;
  /** What {{ var('name') }} is, over the vars: of dbt_project.yml (dbt's --vars). */
  vars?: Record<string, unknown>;
  /** Told what is wrong in the project but changes no test (a dbt_project.yml entry for no model). */
  onWarning?: (message: string) => void;
}): Promise<{ ok: boolean; tests: DataTestResult[] }> {
  const { config } = options;
  const { project, graph } = openProject(config, options.vars);
  for (const warning of project.warnings) options.onWarning?.(warning);
  const selected = new Set(selectNodes(graph, options.selectors ?? [], options.exclude));
  const engine = await createBuildEngine({
    config,
    layout: dataLayout(config.data_dir),
    leases: options.leases,
  });
  const interrupt = () => engine.connection.interrupt();
  options.signal?.addEventListener('abort', interrupt);
  try {
    options.signal?.throwIfAborted();
    await engine.refreshViews();
    const values = (self: string) => publishedValues(config.timezone, self);
    const views = engine.viewNames();
    const tests: DataTest[] = [];
    const missing: DataTestResult[] = [];
    for (const name of selected) {
      const node = project.nodes.get(name);
      if (!node) continue;
      if (!views.has(name)) {
        // A model skipped by design (its optional input is absent) has nothing to test yet.
        if (node.config.skip_when_missing.length === 0)
          missing.push({
            model: name,
            name: 'built',
            status: 'error',
            failures: 0,
            sample: [],
            message: `${name} has not been built; run inlet run ${name} first`,
          });
        continue;
      }
      tests.push(
        ...modelTests(name, node.config, quoteName(name), quoteName, (sql) =>
          renderTemplate(sql, values(quoteName(name))),
        ),
      );
    }
    // A test that refs no model (it reads events, a source table) belongs to no selector: it runs
    // when everything is tested, not never. So do the tests of source tables (properties' sources:).
    const everything = (options.selectors ?? []).length === 0;
    if (everything)
      for (const source of project.sources.values())
        for (const table of source.tables.values()) {
          const relation = quoteName(table.name);
          if (views.has(table.name))
            tests.push(
              ...modelTests(table.name, table.config, relation, quoteName, (sql) =>
                renderTemplate(sql, values(relation)),
              ),
            );
          else if (hasTests(table.config))
            missing.push({
              model: table.name,
              name: 'synced',
              status: 'error',
              failures: 0,
              sample: [],
              message: `${table.name} is not in the lake yet; run inlet sync ${source.name} first`,
            });
        }
    for (const test of project.tests)
      if (test.refs.length === 0 ? everything : test.refs.some((r) => selected.has(r)))
        tests.push({
          model: test.refs.join(', '),
          name: test.name,
          sql: renderTemplate(test.sql, values('')),
        });
    const results = [
      ...missing,
      ...(await runDataTests(engine, tests, options.signal, (name) => project.nodes.has(name))),
    ];
    options.signal?.throwIfAborted();
    return { ok: results.every((r) => r.status === 'pass'), tests: results };
  } finally {
    options.signal?.removeEventListener('abort', interrupt);
    engine.close();
  }
}
