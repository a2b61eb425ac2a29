import type { InletConfig } from '../config/index.ts';
import { dataLayout, type ReadLeases } from '../lake/index.ts';
import { createBuildEngine } from './build-engine.ts';
import { type DataTest, type DataTestResult, modelTests, runDataTests } from './data-tests.ts';
import { selectNodes } from './model-graph.ts';
import { openProject } from './model-runner.ts';
import { publishedValues, renderTemplate } from './model-template.ts';
import { sourceTests, splitSourceSelectors } from './source-tests.ts';
import { quoteName } from './sql-names.ts';

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
}): Promise<{
  ok: boolean;
  tests: DataTestResult[];
  /** How many models and seeds the selectors picked (their source: tables not counted). */
  picked: number;
}> {
  const { config } = options;
  const { project, graph } = openProject(config, options.vars);
  for (const warning of project.warnings) options.onWarning?.(warning);
  // dbt's source:crm picks source tables' tests; given alone, it picks no model.
  const picked = splitSourceSelectors(options.selectors ?? []);
  const excluded = splitSourceSelectors(options.exclude ?? []);
  const onlySources = picked.models.length === 0 && picked.sources.length > 0;
  const selected = new Set(onlySources ? [] : selectNodes(graph, picked.models, excluded.models));
  // The build engine's own stop: a listener that interrupted DuckDB stopped only a statement under
  // way, so a stop between two (a test's check and its count) waited for the next one to end.
  const engine = await createBuildEngine({
    config,
    layout: dataLayout(config.data_dir),
    leases: options.leases,
    signal: options.signal,
  });
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
        // A model skipped by design (its optional input is absent) has nothing to test yet. The check
        // is named for what failed: 'built' made a workflow's error read 'tests failed: daily: built'.
        if (node.config.skip_when_missing.length === 0)
          missing.push({
            model: name,
            name: 'not built',
            status: 'error',
            failures: 0,
            sample: [],
            // Also what one whose build's tests failed reads: that build was not published.
            message: `${name} has not been built; run inlet run ${name} first (a build whose tests fail is not published: inlet run names the tests that failed)`,
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
    // when everything is tested, not never. So do the tests of source tables not picked by source:.
    const everything = (options.selectors ?? []).length === 0;
    const fromSources = sourceTests({
      project,
      select: everything ? undefined : picked.sources,
      exclude: excluded.sources,
      views,
      render: (sql, self) => renderTemplate(sql, values(self)),
    });
    tests.push(...fromSources.tests);
    missing.push(...fromSources.missing);
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
    return { ok: results.every((r) => r.status === 'pass'), tests: results, picked: selected.size };
  } catch (error) {
    // Stopped, whatever failed on the way says why it stopped (a workflow's timeout), not DuckDB's
    // "INTERRUPT Error" of the statement the stop cut.
    options.signal?.throwIfAborted();
    throw error;
  } finally {
    engine.close();
  }
}
