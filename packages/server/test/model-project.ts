// What model-runner.test.ts and its siblings run models in, one a file: a temporary folder with
// configs of their own under it, and the feature project most of their tests share.
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { createQueryEngine, type QueryEngine } from '../src/engine/index.ts';
import { dataLayout } from '../src/lake/index.ts';
import { createSilentLogger } from '../src/log/index.ts';
import { type RunOptions, runModels } from '../src/models/index.ts';
import { tempDir, testConfig } from './helpers.ts';
import { writeEvents, writeProjectFile } from './lake-fixtures.ts';

/** Each model of a run's result by name, with its status. */
export const statuses = (result: Awaited<ReturnType<typeof runModels>>) =>
  Object.fromEntries(result.models.map((m) => [m.name, m.status]));

function folder() {
  const temp = tempDir();
  /** A config of its own under temp.dir (data in <data>, models in <projectDir>), without the built-in models. */
  const configIn = (data: string, projectDir: string) =>
    testConfig(join(temp.dir, data), { project_dir: join(temp.dir, projectDir), models: { builtin: false } });
  return { temp, logger: createSilentLogger(), configIn };
}

/** A temporary folder for the calling file's tests, removed after them, a silent logger and configIn. */
export function modelRunFolder() {
  const made = folder();
  afterAll(() => made.temp.cleanup());
  return made;
}

/**
 * modelRunFolder's, and the feature project the calling file's tests share, made in beforeAll: four
 * events of three users in the lake (2026-10-01 to 03), feature_daily (incremental by dt, with column
 * and unique tests), the view feature_totals over it and users (with accepted_values u1 to u3), none
 * built unless built; config is its configuration, project writes a file of it, run runs its models
 * and rows queries them through a query engine kept open for the file's tests.
 */
export function featureProject({ built = false }: { built?: boolean } = {}) {
  const { temp, logger, configIn } = folder();
  const config = configIn('data', 'project');
  let engine: QueryEngine | undefined;
  const project = (path: string, text: string) => writeProjectFile(config.project_dir, path, text);
  const run = (options: Partial<RunOptions> = {}) => runModels({ config, logger, ...options });
  const rows = async (sql: string) => {
    if (!engine) throw new Error('the feature project was queried before beforeAll made it');
    return (await engine.query(sql)).rows;
  };
  beforeAll(async () => {
    const layout = dataLayout(config.data_dir);
    await writeEvents(layout, [
      { ts: '2026-10-01T10:00:00Z', name: 'report_created', user_id: 'u1' },
      { ts: '2026-10-01T11:00:00Z', name: 'report_created', user_id: 'u2' },
      { ts: '2026-10-02T10:00:00Z', name: 'report_created', user_id: 'u1' },
      { ts: '2026-10-03T10:00:00Z', name: 'filter_applied', user_id: 'u3' },
    ]);
    project(
      'models/feature_daily.sql',
      `/*---
materialized: incremental
description: Uses of each feature per day
columns:
  dt: { description: The UTC day, tests: [not_null] }
  feature: { description: Track event name, tests: [not_null] }
tests:
  - unique: [dt, feature]
---*/
SELECT dt, name AS feature, count(*)::INT AS uses
FROM events
WHERE type = 'track' AND dt BETWEEN {{ from_dt }} AND {{ to_dt }}
GROUP BY ALL`,
    );
    project(
      'models/feature_totals.sql',
      "SELECT feature, sum(uses)::INT AS uses FROM {{ ref('feature_daily') }} GROUP BY ALL",
    );
    project('models/feature_totals.yaml', 'materialized: view\ncolumns:\n  feature:\n    tests: [unique]\n');
    project('models/users.sql', 'SELECT DISTINCT user_id FROM events WHERE user_id IS NOT NULL');
    project(
      'models/users.yaml',
      'columns:\n  user_id:\n    tests: [not_null, unique, {accepted_values: {values: [u1, u2, u3]}}]\n',
    );
    engine = await createQueryEngine({ config, layout });
    if (built) {
      const first = await run();
      if (!first.ok) throw new Error(`the feature project did not build: ${JSON.stringify(first.models)}`);
    }
  });
  afterAll(() => {
    engine?.close();
    temp.cleanup();
  });
  return { temp, logger, config, configIn, project, run, rows };
}
