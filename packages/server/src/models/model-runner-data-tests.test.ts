// A model's data tests in inlet run and inlet test: a model is published only when they pass, they
// run after the models they read, accepted_values and relationships across types, columns named with
// a space or a dot, tests/ files, a test's SQL as one SELECT, and a stopped inlet test.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeEvents } from '../../test/lake-fixtures.ts';
import { featureProject } from '../../test/model-project.ts';
import { dataLayout } from '../lake/index.ts';
import { testModels } from './index.ts';

// Built before the first test, as the tests before them in one file with model-runner.test.ts had built it.
const { config, project, run, rows } = featureProject({ built: true });

describe('running models', () => {
  it("a data test's SQL is one SELECT: text that closes its subquery and COPYs into the lake is refused", async () => {
    // A test's SQL was set inside SELECT count(*) FROM (…) and run as text, so closing the
    // parenthesis ran more statements: a COPY wrote rows into the events table's folder.
    const evil = join(config.data_dir, 'lake', 'events', 'evil.parquet');
    const sql = `SELECT 1 AS x) AS failing; COPY (SELECT 1 AS evil) TO '${evil}'; SELECT * FROM (SELECT 1 AS x`;
    project('models/tested.sql', 'SELECT 1 AS x');
    project('models/tested.yaml', `tests:\n  - name: injected\n    sql: ${JSON.stringify(sql)}\n`);
    const result = await run({ selectors: ['tested'] });
    expect(existsSync(evil)).toBe(false);
    expect(result.models[0]?.tests.map((t) => [t.name, t.status])).toEqual([['injected', 'error']]);
    // Read alone, as DuckDB's parser reads it, the text is not one SELECT.
    expect(result.models[0]?.tests[0]?.message).toContain('syntax error at or near ")"');
    for (const file of ['tested.sql', 'tested.yaml']) rmSync(join(config.project_dir, 'models', file));
  });

  it('a model whose tests fail is not published: readers keep the last good version', async () => {
    const before = await rows('SELECT user_id FROM users ORDER BY 1');
    await writeEvents(dataLayout(config.data_dir), [
      { ts: '2026-10-06T09:00:00Z', name: 'login', user_id: 'intruder' },
    ]);
    const result = await run({ selectors: ['users'] });
    expect(result.ok).toBe(false);
    expect(result.models[0]).toMatchObject({ status: 'test_failed' });
    expect(result.models[0]?.message).toMatch(/not published: accepted_values\(user_id\) found 1 row/);
    expect(result.models[0]?.tests.find((t) => t.status === 'fail')?.sample).toEqual([
      { user_id: 'intruder', n: '1' },
    ]);
    expect(await rows('SELECT user_id FROM users ORDER BY 1')).toEqual(before);
    const tested = await testModels({ config, selectors: ['users'] });
    expect(tested.ok).toBe(true);
    const staging = readdirSync(join(config.data_dir, 'lake', 'marts', 'users')).filter((f) =>
      f.startsWith('.staging'),
    );
    expect(staging).toEqual([]);
  });

  it('a model whose tests read another model is built after it, so a first run passes them', async () => {
    // By name, a_orders comes first; its relationships and SQL tests read z_customers and y_plans.
    project(
      'models/a_orders.sql',
      `/*---
columns:
  customer_id: { tests: [{ relationships: { to: z_customers, field: id } }] }
tests:
  - name: known_plan
    sql: "SELECT * FROM {{ this }} WHERE plan NOT IN (SELECT plan FROM {{ ref('y_plans') }})"
---*/
SELECT * FROM (VALUES (1, 'free'), (2, 'team')) t(customer_id, plan)`,
    );
    project('models/z_customers.sql', 'SELECT * FROM (VALUES (1), (2), (3)) t(id)');
    project('models/y_plans.sql', "SELECT * FROM (VALUES ('free'), ('team')) t(plan)");
    const result = await run({ selectors: ['a_orders', 'y_plans', 'z_customers'] });
    expect(result.models.map((m) => [m.name, m.status, m.tests.map((t) => t.status)])).toEqual([
      ['y_plans', 'success', []],
      ['z_customers', 'success', []],
      ['a_orders', 'success', ['pass', 'pass']],
    ]);
    // Alone on a lake without the model its test reads, the test says to build that model.
    rmSync(join(config.data_dir, 'lake', 'marts', 'z_customers'), { recursive: true });
    const alone = await run({ selectors: ['a_orders'] });
    expect(alone.models[0]?.tests.find((t) => t.status === 'error')?.message).toBe(
      'z_customers, which this test reads, has not been built; run inlet run z_customers first',
    );
    for (const name of ['a_orders', 'y_plans', 'z_customers'])
      rmSync(join(config.project_dir, 'models', `${name}.sql`));
  });

  it('accepted_values compares numbers as numbers: 1 accepts a DECIMAL 1.0, as it accepts an INTEGER 1', async () => {
    project(
      'models/ratings.sql',
      `/*---
columns:
  score: { tests: [{ accepted_values: { values: [1, 2.5, 3] } }] }
  stars: { tests: [{ accepted_values: { values: [1, 2] } }] }
  label: { tests: [{ accepted_values: { values: [low, high, 1] } }] }
---*/
SELECT * FROM (VALUES (1.0::DECIMAL(3,1), 1.0::DOUBLE, 'low'), (2.5, 2, '1.0'), (3, 1, 'high')) t(score, stars, label)`,
    );
    const ok = await run({ selectors: ['ratings'] });
    expect(ok.models[0]?.tests.map((t) => [t.name, t.status])).toEqual([
      ['accepted_values(score)', 'pass'],
      ['accepted_values(stars)', 'pass'],
      ['accepted_values(label)', 'pass'],
    ]);
    project(
      'models/ratings.sql',
      `/*---
columns:
  score: { tests: [{ accepted_values: { values: [1, 3] } }] }
  label: { tests: [{ accepted_values: { values: [low, 1] } }] }
---*/
SELECT * FROM (VALUES (1.0::DECIMAL(3,1), 'low'), (2.5, 'mid'), (3, 'x1')) t(score, label)`,
    );
    const bad = await run({ selectors: ['ratings'] });
    expect(bad.models[0]?.tests.map((t) => [t.name, t.status, t.sample])).toEqual([
      ['accepted_values(score)', 'fail', [{ score: '2.5', n: '1' }]],
      [
        'accepted_values(label)',
        'fail',
        expect.arrayContaining([
          { label: 'mid', n: '1' },
          { label: 'x1', n: '1' },
        ]),
      ],
    ]);
    rmSync(join(config.project_dir, 'models', 'ratings.sql'));
  });

  it('a relationships test between a text column and a number column finds the values that are no key, not a conversion error', async () => {
    project('models/rel_accounts.sql', 'SELECT * FROM (VALUES (1), (2)) t(id)');
    project(
      'models/rel_events.sql',
      `/*---
columns:
  account_id: { tests: [{ relationships: { to: rel_accounts, field: id } }] }
---*/
SELECT * FROM (VALUES ('1'), ('2'), ('acct_9'), ('3')) t(account_id)`,
    );
    const result = await run({ selectors: ['rel_accounts', 'rel_events'] });
    expect(result.models[1]?.tests).toEqual([
      {
        model: 'rel_events',
        name: 'relationships(account_id → rel_accounts.id)',
        status: 'fail',
        failures: 2,
        sample: expect.arrayContaining([{ account_id: 'acct_9' }, { account_id: '3' }]),
      },
    ]);
    // A field: the table lacks was 'Referenced table "p" not found!', naming neither.
    project(
      'models/rel_events.sql',
      `/*---
columns:
  account_id: { tests: [{ relationships: { to: rel_accounts, field: account } }] }
  acount_id: { tests: [not_null] }
---*/
SELECT * FROM (VALUES ('1')) t(account_id)`,
    );
    const missing = await run({ selectors: ['rel_events'] });
    // DuckDB's Binder Error was all a test on a column the model does not output said.
    expect(missing.models[0]?.tests?.[1]?.message).toMatch(
      /^Binder Error: Referenced column "acount_id" not found in FROM clause! acount_id is not a column of the table the test reads: fix its name/,
    );
    expect(missing.models[0]?.tests?.[0]).toMatchObject({
      name: 'relationships(account_id → rel_accounts.account)',
      status: 'error',
      message:
        'Binder Error: Referenced column "account" not found in FROM clause! account is not a column of the table the test reads: fix its name in the test (under columns:, in unique:, a relationships test\'s field: or its SQL), or remove the test',
    });
    // A to: no table has was DuckDB's first line alone, its guess at the name meant left out.
    project(
      'models/rel_events.sql',
      `/*---
columns:
  account_id: { tests: [{ relationships: { to: rel_acounts, field: id } }, { relationships: { to: zzz, field: id } }] }
---*/
SELECT * FROM (VALUES ('1')) t(account_id)`,
    );
    const absent = await run({ selectors: ['rel_events'] });
    expect(absent.models[0]?.tests?.map((test) => [test.status, test.message])).toEqual([
      [
        'error',
        "rel_acounts, which this test reads, is not a table or view in the lake (did you mean rel_accounts?): correct the name in the test (a relationships test's to:, or its SQL); inlet catalog lists the tables",
      ],
      [
        'error',
        "zzz, which this test reads, is not a table or view in the lake: correct the name in the test (a relationships test's to:, or its SQL); inlet catalog lists the tables",
      ],
    ]);
    rmSync(join(config.project_dir, 'models', 'rel_accounts.sql'));
    rmSync(join(config.project_dir, 'models', 'rel_events.sql'));
  });

  it('tests and merges columns named with a space or a dot, as CSV sources name them ("Order ID", "utm.source")', async () => {
    project('models/dotted_keys.sql', `SELECT * FROM (VALUES (1), (2)) t("Order ID")`);
    project(
      'models/dotted.sql',
      `/*---
materialized: incremental
unique_key: Order ID
columns:
  Order ID:
    tests: [not_null, unique, { relationships: { to: dotted_keys, field: Order ID } }]
  utm.source: { tests: [not_null, { accepted_values: { values: [google, (direct)] } }] }
tests:
  - unique: [Order ID, utm.source]
---*/
SELECT * FROM (VALUES (1, 'google'), (2, NULL), (3, 'bing')) t("Order ID", "utm.source")`,
    );
    const result = await run({ selectors: ['dotted_keys', 'dotted'] });
    expect(result.models[1]?.tests?.map((t) => [t.name, t.status, t.failures, t.message])).toEqual([
      ['not_null(Order ID)', 'pass', 0, undefined],
      ['unique(Order ID)', 'pass', 0, undefined],
      ['relationships(Order ID → dotted_keys.Order ID)', 'fail', 1, undefined],
      ['not_null(utm.source)', 'fail', 1, undefined],
      ['accepted_values(utm.source)', 'fail', 1, undefined],
      ['unique(Order ID, utm.source)', 'pass', 0, undefined],
    ]);
    /** Makes dotted, without its tests, select these ("Order ID", "utm.source") rows, and runs it. */
    const runDotted = async (values: string) => {
      project(
        'models/dotted.sql',
        `/*---
materialized: incremental
unique_key: Order ID
---*/
SELECT * FROM (VALUES ${values}) t("Order ID", "utm.source")`,
      );
      return (await run({ selectors: ['dotted'] })).models[0];
    };
    expect(await runDotted("(1, 'google'), (2, 'bing')")).toMatchObject({ status: 'success', mode: 'full' });
    expect(await runDotted("(2, '(direct)')")).toMatchObject({ status: 'success', mode: 'merge' });
    expect(await rows('SELECT "Order ID", "utm.source" FROM dotted ORDER BY 1')).toEqual([
      [1, 'google'],
      [2, '(direct)'],
    ]);
    rmSync(join(config.project_dir, 'models', 'dotted.sql'));
    rmSync(join(config.project_dir, 'models', 'dotted_keys.sql'));
  });

  it('inlet test checks what is published, including SQL files under tests/', async () => {
    project('tests/totals_match.sql', "SELECT * FROM {{ ref('feature_totals') }} WHERE uses > 2");
    const result = await testModels({ config, selectors: ['feature_totals'] });
    expect(result.ok).toBe(false);
    expect(result.tests.map((t) => [t.name, t.status, t.failures])).toEqual([
      ['unique(feature)', 'pass', 0],
      ['totals_match', 'fail', 1],
    ]);
  });

  it('inlet test runs a tests/ file that reads tables without ref() too, when it tests everything', async () => {
    project('tests/no_anonymous_logins.sql', "SELECT * FROM events WHERE name = 'login' AND user_id IS NULL");
    project('tests/known_users.sql', "SELECT * FROM events WHERE user_id NOT IN ('u1', 'u2', 'u3')");
    const all = await testModels({ config });
    expect(all.tests.filter((t) => t.model === '').map((t) => [t.name, t.status, t.failures])).toEqual([
      ['known_users', 'fail', 1],
      ['no_anonymous_logins', 'pass', 0],
    ]);
    expect(all.ok).toBe(false);
    const one = await testModels({ config, selectors: ['users'] });
    expect(one.tests.map((t) => t.name)).not.toContain('known_users');
    rmSync(join(config.project_dir, 'tests', 'no_anonymous_logins.sql'));
    rmSync(join(config.project_dir, 'tests', 'known_users.sql'));
  });

  it('inlet test stops its running test when its signal aborts (a workflow timed out), rather than leave it running', async () => {
    project('models/endless.sql', 'SELECT 1 AS x');
    expect((await run({ selectors: ['endless'] })).ok).toBe(true);
    project(
      'models/endless.yaml',
      'tests:\n  - name: never_ends\n    sql: SELECT x FROM {{ this }}, range(1000000000000) AS r WHERE random() < 0\n',
    );
    const abort = new AbortController();
    const tested = testModels({ config, selectors: ['endless'], signal: abort.signal });
    setTimeout(() => abort.abort(new Error('the run took longer than its timeout')), 300);
    await expect(tested).rejects.toThrow('the run took longer than its timeout');
    // Stopped while the engine set up its views, it said DuckDB's "INTERRUPT Error: the build was
    // stopped before this statement started" in place of the stop's reason: at each moment, the reason.
    const said: string[] = [];
    for (let ms = 0; ms <= 60; ms += 3) {
      const early = new AbortController();
      const stopped = testModels({ config, selectors: ['endless'], signal: early.signal });
      setTimeout(() => early.abort(new Error('the run took longer than its timeout')), ms);
      said.push(
        await stopped.then(
          () => `${ms} ms: finished`,
          (error) => `${ms} ms: ${(error as Error).message}`,
        ),
      );
    }
    expect(said.filter((line) => !line.endsWith(' ms: the run took longer than its timeout'))).toEqual([]);
    rmSync(join(config.project_dir, 'models', 'endless.sql'));
    rmSync(join(config.project_dir, 'models', 'endless.yaml'));
  });
});
