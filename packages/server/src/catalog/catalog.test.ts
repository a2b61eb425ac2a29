import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capturingLogger, sourceContext, tempDir, testConfig } from '../../test/helpers.ts';
import { walRecord, walWithMissingSegment, writeEvents, writeProjectFile } from '../../test/lake-fixtures.ts';
import type { InletConfig } from '../config/index.ts';
import { createReadLeases, dataLayout, writeLakeTable } from '../lake/index.ts';
import { createSilentLogger } from '../log/index.ts';
import { runModels } from '../models/index.ts';
import { createSources, findSource } from '../sources/index.ts';
import { openStateStore } from '../state/index.ts';
import { segmentPath } from '../wal/index.ts';
import { type Catalog, createCatalog } from './index.ts';

const temp = tempDir();
const logger = createSilentLogger();
let config: InletConfig;
let catalog: Catalog;

beforeAll(async () => {
  const csv = join(temp.dir, 'customers.csv');
  writeFileSync(csv, 'id,name,account_id\n1,Aoki Co.,acct_1\n2,Baba Ltd.,acct_2\n');
  config = testConfig(join(temp.dir, 'data'), {
    project_dir: join(temp.dir, 'project'),
    models: { builtin: false },
    sources: [{ name: 'crm', type: 'csv', tables: [{ path: csv, name: 'customers' }] }],
  });
  const layout = dataLayout(config.data_dir);
  await writeEvents(layout, [
    { ts: '2026-11-20T10:00:00Z', name: 'login', properties: { account_id: 'acct_1' } },
    { ts: '2026-11-21T10:00:00Z', name: 'login', properties: { account_id: 'acct_1' } },
    { ts: '2026-11-21T11:00:00Z', name: 'login', properties: { account_id: 'acct_2' } },
  ]);
  // A real sync through the sources contract writes crm.customers.
  const state = openStateStore(join(config.data_dir, 'state.sqlite'));
  await findSource(createSources(config), 'crm').sync(sourceContext(config, state));
  state.close();
  const project = (path: string, text: string) => writeProjectFile(config.project_dir, path, text);
  project(
    'models/account_events.sql',
    "/*---\nmaterialized: view\n---*/\nSELECT event_id, properties->>'account_id' AS account_id, dt FROM events",
  );
  project(
    'models/accounts_activity.sql',
    `/*---
description: Logins per customer account, with its name from the CRM.
owner: success@example.com
columns:
  account_id: { description: "The customer account.", tests: [not_null, unique] }
  logins: Login events.
---*/
SELECT c.account_id, c.name, count(e.event_id)::INT AS logins
FROM crm.customers AS c LEFT JOIN {{ ref('account_events') }} AS e USING (account_id)
GROUP BY ALL`,
  );
  project('models/later.sql', "SELECT * FROM {{ ref('accounts_activity') }}");
  const result = await runModels({ config, logger, selectors: ['+accounts_activity'] });
  expect(result.ok).toBe(true);
  catalog = createCatalog({ config, logger });
});
afterAll(() => {
  catalog?.close();
  temp.cleanup();
});

/** Runs the body with a model written to the project, and removes it after. */
async function withModel(name: string, text: string, body: () => Promise<void>): Promise<void> {
  writeProjectFile(config.project_dir, `models/${name}.sql`, text);
  try {
    await body();
  } finally {
    rmSync(join(config.project_dir, 'models', `${name}.sql`));
  }
}

describe('catalog', () => {
  it('lists every table and view the engine knows with kind, rows, size, partitions and freshness', async () => {
    const tables = await catalog.tables();
    expect(tables.map((t) => [t.name, t.kind, t.materialized ?? null, t.rows, t.built])).toEqual([
      ['account_events', 'model', 'view', null, true],
      ['accounts_activity', 'model', 'table', 2, true],
      ['crm.customers', 'source_table', null, 2, true],
      ['events', 'events', null, 3, true],
      // A model of the project not built yet, as dbt's docs list it: it was left out.
      ['later', 'model', 'table', null, false],
    ]);
    const events = tables.find((t) => t.name === 'events');
    // GET /api/catalog and one table's JSON left the key out for a table no model makes, where
    // docs/catalog.md lists it and inlet catalog's NDJSON list gave null.
    expect(events).toHaveProperty('materialized', null);
    expect(await catalog.table('crm.customers')).toHaveProperty('materialized', null);
    expect(events).toMatchObject({
      partitions: { count: 2, first: '2026-11-20', last: '2026-11-21' },
      description: expect.stringContaining('Every event the collector accepted'),
    });
    expect(events?.bytes).toBeGreaterThan(0);
    expect(events?.files).toBe(2);
    expect(Date.parse(events?.updated_at ?? '')).toBeGreaterThan(Date.now() - 120_000);
    expect(events?.columns.find((c) => c.name === 'ts')).toEqual({
      name: 'ts',
      type: 'TIMESTAMP WITH TIME ZONE',
      description: 'When it happened, client time corrected for clock skew.',
    });
  });

  it('describes one table: columns with own or inherited descriptions, tests, owner, lineage', async () => {
    const mart = await catalog.table('accounts_activity');
    expect(mart).toMatchObject({
      description: 'Logins per customer account, with its name from the CRM.',
      owner: 'success@example.com',
      tests: ['not_null(account_id)', 'unique(account_id)'],
      depends_on: ['account_events', 'crm.customers'],
      upstream: ['account_events', 'crm.customers', 'events', 'source:crm'],
      downstream: ['later'],
    });
    expect(mart.columns).toEqual([
      { name: 'account_id', type: 'VARCHAR', description: 'The customer account.' },
      { name: 'name', type: 'VARCHAR', description: null },
      { name: 'logins', type: 'INTEGER', description: 'Login events.' },
    ]);
    const view = await catalog.table('account_events');
    // The model's SQL as written, without the blank lines left where its front matter was.
    expect(view.sql).toBe("SELECT event_id, properties->>'account_id' AS account_id, dt FROM events");
    expect(view.updated_at).toBe((await catalog.table('events')).updated_at);
    expect(view.columns.find((c) => c.name === 'dt')).toMatchObject({
      description: 'UTC day of ts; the partition.',
      description_from: 'events',
    });
    await expect(catalog.table('nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('describes a model of the project not built yet: its YAML, SQL, columns and lineage, with no rows and no freshness', async () => {
    // It answered NOT_FOUND "No table or view named" for a model /api/lineage shows.
    const later = await catalog.table('later');
    expect(later).toMatchObject({
      name: 'later',
      kind: 'model',
      materialized: 'table',
      built: false,
      description: null,
      rows: null,
      bytes: 0,
      files: 0,
      partitions: { count: 0, first: null, last: null },
      partition_list: [],
      updated_at: null,
      sql: 'SELECT * FROM "accounts_activity"',
      depends_on: ['accounts_activity'],
      upstream: ['account_events', 'accounts_activity', 'crm.customers', 'events', 'source:crm'],
      downstream: [],
    });
    // Its columns as its first build would output them, with what they inherit upstream.
    expect(later.columns).toEqual([
      {
        name: 'account_id',
        type: 'VARCHAR',
        description: 'The customer account.',
        description_from: 'accounts_activity',
      },
      { name: 'name', type: 'VARCHAR', description: null },
      {
        name: 'logins',
        type: 'INTEGER',
        description: 'Login events.',
        description_from: 'accounts_activity',
      },
    ]);
    expect((await catalog.table('accounts_activity')).built).toBe(true);
    // One that reads a model not built either: its columns as DuckDB describes its SQL over that
    // model's (not run). It had only the columns its YAML documents, with type null.
    writeProjectFile(
      config.project_dir,
      'models/later_still.sql',
      `/*---
description: What later has, later.
owner: data@example.com
columns:
  account_id: { description: "The account.", tests: [not_null] }
---*/
SELECT account_id FROM {{ ref('later') }}`,
    );
    try {
      expect(await catalog.table('Later_Still')).toMatchObject({
        name: 'later_still',
        built: false,
        description: 'What later has, later.',
        owner: 'data@example.com',
        tests: ['not_null(account_id)'],
        columns: [{ name: 'account_id', type: 'VARCHAR', description: 'The account.' }],
        upstream: expect.arrayContaining(['later', 'accounts_activity']),
      });
      expect((await catalog.table('later')).downstream).toEqual(['later_still']);
    } finally {
      rmSync(join(config.project_dir, 'models', 'later_still.sql'));
    }
    // Neither a table nor a model: NOT_FOUND, naming both.
    await expect(catalog.table('latre')).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringMatching(
        /^No table, view or model named "latre"; the lake has .*; not built yet: later \(/,
      ),
    });
  });

  it('draws lineage from the source through its table to models, unbuilt models included', async () => {
    const lineage = await catalog.lineage();
    expect(lineage.edges).toEqual([
      { from: 'account_events', to: 'accounts_activity' },
      { from: 'accounts_activity', to: 'later' },
      { from: 'crm.customers', to: 'accounts_activity' },
      { from: 'events', to: 'account_events' },
      { from: 'source:crm', to: 'crm.customers' },
    ]);
    expect(lineage.nodes).toContainEqual({ id: 'later', kind: 'model', built: false });
    expect(lineage.nodes).toContainEqual({ id: 'source:crm', kind: 'source', built: true });
    // A source's table was kind source in the catalog and source_table here, one thing by two words.
    expect(lineage.nodes).toContainEqual({ id: 'crm.customers', kind: 'source_table', built: true });
    expect((await catalog.table('crm.customers')).kind).toBe('source_table');
  });

  it("shows a built model's refs as its SQL has them now, not the ones it was built with", async () => {
    const model = (name: string, sql: string) =>
      writeProjectFile(config.project_dir, `models/${name}.sql`, sql);
    model('old_input', 'SELECT 1 AS n');
    model('new_input', 'SELECT 2 AS n');
    model('edited', "SELECT n FROM {{ ref('old_input') }}");
    model('by_name', 'SELECT n FROM old_input, (SELECT count(*) FROM events)');
    expect((await runModels({ config, logger, selectors: ['+edited'] })).ok).toBe(true);
    expect((await runModels({ config, logger, selectors: ['by_name'] })).ok).toBe(true);
    model('edited', "SELECT n FROM {{ ref('new_input') }}");
    const lineage = await catalog.lineage();
    expect(lineage.edges.filter((e) => e.to === 'edited')).toEqual([{ from: 'new_input', to: 'edited' }]);
    expect(await catalog.table('edited')).toMatchObject({ upstream: ['new_input'] });
    // What a model reads by name, without ref() (events, a source's table, even a model), is known
    // from its build, as long as its SQL still names it.
    expect(lineage.edges.filter((e) => e.to === 'by_name')).toEqual([
      { from: 'events', to: 'by_name' },
      { from: 'old_input', to: 'by_name' },
    ]);
    // A table it reads by name after an edit is shown before it is built again, as a ref() is.
    model('by_name', 'SELECT n FROM new_input JOIN crm.customers ON true');
    expect((await catalog.lineage()).edges.filter((e) => e.to === 'by_name')).toEqual([
      { from: 'crm.customers', to: 'by_name' },
      { from: 'new_input', to: 'by_name' },
    ]);
    // Named only in a comment or a string, it is read no more.
    model(
      'by_name',
      "-- was: FROM old_input\nSELECT 'events' AS n, $$old_input$$ AS m /* old_input /* events */ */ -- events\n{# FROM events #}",
    );
    expect((await catalog.lineage()).edges.filter((e) => e.to === 'by_name')).toEqual([]);
    model('by_name', 'SELECT 1 AS n');
    expect((await catalog.lineage()).edges.filter((e) => e.to === 'by_name')).toEqual([]);
    expect(await catalog.table('old_input')).toMatchObject({ downstream: [] });
    for (const name of ['old_input', 'new_input', 'edited', 'by_name']) {
      rmSync(join(config.project_dir, 'models', `${name}.sql`));
      rmSync(join(config.data_dir, 'lake', 'marts', name), { recursive: true, force: true });
    }
  });

  it('shows the tables a model not built yet reads by name, from its SQL: a CTE or a table function is no table', async () => {
    // account_events is a built model too: here the CTE of that name is read, not the model.
    writeProjectFile(
      config.project_dir,
      'models/not_run_yet.sql',
      `WITH account_events AS (SELECT 1 AS n)
SELECT c.name, e.event_id, a.n, r.range FROM crm.customers c, Events e, account_events a, range(3) r
-- FROM accounts_activity`,
    );
    const lineage = await catalog.lineage();
    expect(lineage.edges.filter((e) => e.to === 'not_run_yet')).toEqual([
      { from: 'crm.customers', to: 'not_run_yet' },
      { from: 'events', to: 'not_run_yet' },
    ]);
    expect(lineage.nodes).toContainEqual({ id: 'not_run_yet', kind: 'model', built: false });
    expect((await catalog.table('events')).downstream).toContain('not_run_yet');
    expect((await catalog.table('account_events')).downstream).not.toContain('not_run_yet');
    rmSync(join(config.project_dir, 'models', 'not_run_yet.sql'));
  });

  it("shows a model that reads main.events (DuckDB's qualified name) as reading events, not a table main.events that is not there", async () => {
    // Its lineage had a node main.events (a source table, not built) and events had no downstream.
    writeProjectFile(config.project_dir, 'models/qualified.sql', 'SELECT event_id, dt FROM Main.Events');
    try {
      const lineage = await catalog.lineage();
      expect(lineage.edges.filter((e) => e.to === 'qualified')).toEqual([
        { from: 'events', to: 'qualified' },
      ]);
      expect(lineage.nodes.map((n) => n.id)).not.toContain('Main.Events');
      expect((await catalog.table('events')).downstream).toContain('qualified');
      expect((await catalog.table('main.events')).name).toBe('events');
      expect((await catalog.table('MAIN.qualified')).name).toBe('qualified');
      expect((await catalog.table('qualified')).columns.find((c) => c.name === 'dt')).toMatchObject({
        description_from: 'events',
      });
    } finally {
      rmSync(join(config.project_dir, 'models', 'qualified.sql'));
    }
  });

  it('lists marts and columns without a description', async () => {
    expect(await catalog.docsCheck()).toEqual([
      { table: 'account_events' },
      { table: 'account_events', column: 'account_id' },
      { table: 'accounts_activity', column: 'name' },
      { table: 'later' },
      // A model not built yet is checked by the columns its SQL outputs: only its own description was.
      { table: 'later', column: 'name' },
    ]);
  });

  it('a model not built yet that reads another not built yet inherits its column descriptions through it', async () => {
    // later is not built; its account_id has the description of accounts_activity's.
    await withModel(
      'later_tested',
      `/*---
description: What later has, tested.
columns:
  account_id: { tests: [not_null] }
---*/
SELECT account_id FROM {{ ref('later') }}`,
      async () => {
        const inherited = {
          name: 'account_id',
          type: 'VARCHAR',
          description: 'The customer account.',
          description_from: 'accounts_activity',
        };
        // It had no description, and docs check asked for one that later already passes on.
        expect((await catalog.table('later_tested')).columns).toEqual([inherited]);
        expect((await catalog.tables()).find((t) => t.name === 'later_tested')?.columns).toEqual([inherited]);
        expect((await catalog.docsCheck()).filter((gap) => gap.table === 'later_tested')).toEqual([]);
      },
    );
  });

  it('describes models not built yet in the order they read each other; one in a cycle or over one DuckDB cannot describe has its YAML columns and says why', async () => {
    const model = (name: string, sql: string) =>
      writeProjectFile(config.project_dir, `models/${name}.sql`, sql);
    const yaml = (column: string) => `/*---\ncolumns:\n  ${column}: { description: "Documented." }\n---*/\n`;
    // Two steps from the lake, through two models not built yet, and a seed's CSV read by name.
    model('step_one', "SELECT account_id, logins * 2 AS doubled FROM {{ ref('later') }}");
    model('step_two', "SELECT doubled::BIGINT AS total, 'x' AS tag FROM {{ ref('step_one') }}");
    // Read by name (no ref: the project would refuse a cycle of refs), each reads the other.
    model('loop_a', `${yaml('a')}SELECT a FROM loop_b`);
    model('loop_b', `${yaml('b')}SELECT a AS b FROM loop_a`);
    model('over_loop', `${yaml('c')}SELECT * FROM {{ ref('loop_a') }}`);
    model('broken', `${yaml('n')}SELECT no_such_column AS n FROM events`);
    model('over_broken', `${yaml('m')}SELECT n AS m FROM {{ ref('broken') }}`);
    const described: string[] = [];
    const counting = createCatalog({ config, logger, onModelDescribed: (name) => described.push(name) });
    try {
      expect((await counting.table('step_two')).columns).toEqual([
        { name: 'total', type: 'BIGINT', description: null },
        { name: 'tag', type: 'VARCHAR', description: null },
      ]);
      expect((await counting.table('step_one')).columns.map((c) => [c.name, c.type])).toEqual([
        ['account_id', 'VARCHAR'],
        ['doubled', 'INTEGER'],
      ]);
      const loop = await counting.table('loop_a');
      expect(loop.columns).toEqual([{ name: 'a', type: null, description: 'Documented.' }]);
      expect(loop.columns_note).toBe(
        'Its columns are those its YAML documents, of a type not known yet: it reads itself through loop_a → loop_b → loop_a, so none of these can be built first; make one of them read something else.',
      );
      expect((await counting.table('over_loop')).columns_note).toMatch(
        /: it reads loop_a, not built yet either, whose columns cannot be told \(inlet catalog loop_a says why\)\.$/,
      );
      expect((await counting.table('broken')).columns_note).toMatch(
        /: DuckDB cannot describe its SQL \(.*no_such_column.*\); inlet run broken says what is wrong\.$/,
      );
      expect(await counting.table('over_broken')).toMatchObject({
        columns: [{ name: 'm', type: null, description: 'Documented.' }],
        columns_note: expect.stringContaining('it reads broken, not built yet either'),
      });
      // A model of the cycle is never described: DuckDB could not tell its columns.
      expect(described).not.toContain('loop_a');
      // The stand-ins are gone once described: built, step_one's page has the columns of its mart.
      model('step_one', 'SELECT 1 AS built_now');
      expect((await runModels({ config, logger, selectors: ['step_one'] })).ok).toBe(true);
      expect((await counting.table('step_one')).columns.map((c) => c.name)).toEqual(['built_now']);
    } finally {
      counting.close();
      for (const name of ['step_one', 'step_two', 'loop_a', 'loop_b', 'over_loop', 'broken', 'over_broken'])
        rmSync(join(config.project_dir, 'models', `${name}.sql`));
      rmSync(join(config.data_dir, 'lake', 'marts', 'step_one'), { recursive: true, force: true });
    }
  });

  it("describes for a model not built yet's page only it and those not built yet it reads, where it described every one", async () => {
    writeProjectFile(
      config.project_dir,
      'models/later_still.sql',
      "SELECT account_id FROM {{ ref('later') }}",
    );
    writeProjectFile(config.project_dir, 'models/unrelated.sql', 'SELECT 1 AS n');
    const described: string[] = [];
    const counting = createCatalog({ config, logger, onModelDescribed: (name) => described.push(name) });
    const asking = async (work: () => Promise<unknown>) => {
      described.length = 0;
      await work();
      return [...described];
    };
    try {
      // The page of later described later_still and unrelated too: one DESCRIBE for each model not built.
      expect(await asking(() => counting.table('later'))).toEqual(['later']);
      expect(await asking(() => counting.table('later_still'))).toEqual(['later', 'later_still']);
      expect((await counting.table('later_still')).columns).toEqual([
        {
          name: 'account_id',
          type: 'VARCHAR',
          description: 'The customer account.',
          description_from: 'accounts_activity',
        },
      ]);
      expect(await asking(() => counting.table('unrelated'))).toEqual(['unrelated']);
      // The list describes them all, each once.
      expect((await asking(() => counting.tables())).sort()).toEqual(['later', 'later_still', 'unrelated']);
    } finally {
      counting.close();
      rmSync(join(config.project_dir, 'models', 'later_still.sql'));
      rmSync(join(config.project_dir, 'models', 'unrelated.sql'));
    }
  });

  it('docs check checks the columns of a model not built yet, as DuckDB describes its SQL', async () => {
    await withModel(
      'unbuilt_docs',
      `/*---
description: Accounts, not built yet.
columns:
  acount_id: { description: "A typo for account_id." }
  logins: { description: "Logins, said again." }
---*/
SELECT account_id, logins, 1 AS flag FROM {{ ref('accounts_activity') }}`,
      async () => {
        // Only a missing description of the model itself was found; its columns were not looked at.
        expect((await catalog.docsCheck()).filter((gap) => gap.table === 'unbuilt_docs')).toEqual([
          { table: 'unbuilt_docs', column: 'acount_id', problem: 'not_a_column' },
          { table: 'unbuilt_docs', column: 'flag' },
        ]);
      },
    );
  });

  it('an incremental model that reads {{ this }} is not its own upstream or downstream', async () => {
    writeProjectFile(
      config.project_dir,
      'models/growing.sql',
      `/*---
materialized: incremental
unique_key: account_id
---*/
SELECT account_id, logins FROM {{ ref('accounts_activity') }}
{% if is_incremental %} WHERE account_id NOT IN (SELECT account_id FROM {{ this }}) {% endif %}`,
    );
    for (const mode of ['full', 'merge'])
      expect((await runModels({ config, logger, selectors: ['growing'] })).models[0]).toMatchObject({
        status: 'success',
        mode,
      });
    expect(await catalog.table('growing')).toMatchObject({
      depends_on: ['accounts_activity'],
      upstream: ['account_events', 'accounts_activity', 'crm.customers', 'events', 'source:crm'],
      downstream: [],
    });
    expect((await catalog.lineage()).edges.filter((e) => e.from === e.to)).toEqual([]);
    // A manifest an older build wrote names the model among its inputs; the catalog leaves it out.
    const manifest = join(config.data_dir, 'lake', 'marts', 'growing', '_table.json');
    const table = JSON.parse(readFileSync(manifest, 'utf8'));
    writeFileSync(manifest, JSON.stringify({ ...table, depends_on: ['accounts_activity', 'growing'] }));
    expect(await catalog.table('growing')).toMatchObject({
      depends_on: ['accounts_activity'],
      downstream: [],
    });
  });

  it('shows a model whose mart was deleted, still read by a built one, as a model, not a source table', async () => {
    writeProjectFile(config.project_dir, 'models/short_lived.sql', 'SELECT 1 AS n');
    writeProjectFile(config.project_dir, 'models/keeps_copy.sql', "SELECT n FROM {{ ref('short_lived') }}");
    expect((await runModels({ config, logger, selectors: ['short_lived', 'keeps_copy'] })).ok).toBe(true);
    rmSync(join(config.project_dir, 'models', 'short_lived.sql'));
    rmSync(join(config.project_dir, 'models', 'keeps_copy.sql'));
    rmSync(join(config.data_dir, 'lake', 'marts', 'short_lived'), { recursive: true });
    const lineage = await catalog.lineage();
    expect(lineage.nodes.find((n) => n.id === 'short_lived')).toEqual({
      id: 'short_lived',
      kind: 'model',
      built: false,
    });
    rmSync(join(config.data_dir, 'lake', 'marts', 'keeps_copy'), { recursive: true });
  });

  it('docs check names a mart no model defines any more (a model renamed), instead of its missing descriptions', async () => {
    writeProjectFile(config.project_dir, 'models/old_name.sql', 'SELECT 1 AS n');
    expect((await runModels({ config, logger, selectors: ['old_name'] })).ok).toBe(true);
    rmSync(join(config.project_dir, 'models', 'old_name.sql'));
    writeProjectFile(
      config.project_dir,
      'models/new_name.sql',
      '/*---\ndescription: Renamed.\ncolumns:\n  n: One.\n---*/\nSELECT 1 AS n',
    );
    expect((await runModels({ config, logger, selectors: ['new_name'] })).ok).toBe(true);
    const gaps = (await catalog.docsCheck()).filter((gap) => gap.table.endsWith('_name'));
    expect(gaps).toEqual([{ table: 'old_name', problem: 'no_model' }]);
    rmSync(join(config.data_dir, 'lake', 'marts', 'old_name'), { recursive: true });
    rmSync(join(config.data_dir, 'lake', 'marts', 'new_name'), { recursive: true });
    rmSync(join(config.project_dir, 'models', 'new_name.sql'));
  });

  it("shows a built model's descriptions as its YAML has them now: one deleted from it is gone before a rebuild", async () => {
    const model = (front: string) =>
      writeProjectFile(
        config.project_dir,
        'models/described.sql',
        `/*---\n${front}---*/\nSELECT 1 AS n, 2 AS m`,
      );
    model('description: Once described.\ncolumns:\n  n: The n.\n  m: The m.\n');
    expect((await runModels({ config, logger, selectors: ['described'] })).ok).toBe(true);
    model('columns:\n  m: The m, now.\n');
    const table = await catalog.table('described');
    expect(table.description).toBeNull();
    expect(table.columns.map((column) => [column.name, column.description])).toEqual([
      ['n', null],
      ['m', 'The m, now.'],
    ]);
    const gaps = (await catalog.docsCheck()).filter((gap) => gap.table === 'described');
    expect(gaps).toEqual([{ table: 'described' }, { table: 'described', column: 'n' }]);
    rmSync(join(config.project_dir, 'models', 'described.sql'));
    rmSync(join(config.data_dir, 'lake', 'marts', 'described'), { recursive: true });
  });

  it('lists columns the YAML documents that the mart does not have, as a typo would leave them, matching names in any case as DuckDB does', async () => {
    writeProjectFile(
      config.project_dir,
      'models/misdocumented.sql',
      `/*---
description: Columns documented under other names.
columns:
  account: The account (the column is account_id).
  LOGINS: Logins of the account.
  user_id: The account's user.
  dt: { tests: [] }
---*/
SELECT account_id, account_id AS User_ID, logins FROM {{ ref('accounts_activity') }}`,
    );
    expect((await runModels({ config, logger, selectors: ['misdocumented'] })).ok).toBe(true);
    const gaps = (await catalog.docsCheck()).filter((gap) => gap.table === 'misdocumented');
    // LOGINS documents logins: DuckDB identifiers, and dbt's docs on such warehouses, ignore case.
    expect(gaps).toEqual([
      { table: 'misdocumented', column: 'account', problem: 'not_a_column' },
      { table: 'misdocumented', column: 'dt', problem: 'not_a_column' },
    ]);
    const columns = (await catalog.table('misdocumented')).columns;
    expect(columns.map((column) => [column.name, column.description])).toEqual([
      ['account_id', 'The customer account.'],
      ['User_ID', "The account's user."],
      ['logins', 'Logins of the account.'],
    ]);
  });
});

describe('the lineage of models', () => {
  it("parses a model's SQL once, not at every request, and again once it is edited, so its lineage follows the edit", async () => {
    // GET /api/lineage parsed every model's SQL through DuckDB at each request.
    const own = testConfig(join(temp.dir, 'parsed-once'), {
      project_dir: join(temp.dir, 'parsed-once-project'),
      models: { builtin: false },
    });
    await writeEvents(dataLayout(own.data_dir), [{ ts: '2026-11-20T10:00:00Z', name: 'login' }]);
    const model = (name: string, sql: string) => writeProjectFile(own.project_dir, `models/${name}.sql`, sql);
    model('first', 'SELECT event_id FROM events');
    model('second', "SELECT * FROM {{ ref('first') }}");
    model(
      'growing',
      '/*---\nmaterialized: incremental\n---*/\nSELECT * FROM events {% if is_incremental %}WHERE dt >= {{ from_dt }}{% endif %}',
    );
    const parsed: string[] = [];
    const catalog = createCatalog({ config: own, logger, onModelParsed: (name) => parsed.push(name) });
    try {
      const inputsOf = async (name: string) =>
        (await catalog.lineage()).edges.filter((edge) => edge.to === name).map((edge) => edge.from);
      expect(await inputsOf('second')).toEqual(['first']);
      // The incremental model is parsed as a first build and as a later one reads it.
      expect(parsed.sort()).toEqual(['first', 'growing', 'growing', 'second']);
      parsed.length = 0;
      await catalog.lineage();
      await catalog.table('events');
      expect(parsed).toEqual([]);
      model('second', "SELECT * FROM {{ ref('first') }} JOIN events USING (event_id)");
      expect(await inputsOf('second')).toEqual(['events', 'first']);
      expect(parsed).toEqual(['second']);
      // Back as it was: its lineage is what that SQL reads again.
      model('second', "SELECT * FROM {{ ref('first') }}");
      expect(await inputsOf('second')).toEqual(['first']);
    } finally {
      catalog.close();
    }
  });
});

describe('a source table not synced yet', () => {
  it('is NOT_FOUND saying inlet sync copies it, where it was said to be no table at all', async () => {
    const csv = join(temp.dir, 'plans.csv');
    writeFileSync(csv, 'id\n1\n');
    const unsynced = testConfig(join(temp.dir, 'unsynced'), {
      project_dir: join(temp.dir, 'unsynced-project'),
      models: { builtin: false },
      sources: [{ name: 'billing', type: 'csv', tables: [{ path: csv, name: 'plans' }] }],
    });
    await writeEvents(dataLayout(unsynced.data_dir), [{ ts: '2026-11-20T10:00:00Z', name: 'login' }]);
    const own = createCatalog({ config: unsynced, logger });
    try {
      for (const name of ['billing.plans', 'Billing.Plans', 'source:billing.plans'])
        await expect(own.table(name)).rejects.toMatchObject({
          code: 'NOT_FOUND',
          message:
            'billing.plans is a table the source billing copies, not synced yet, so it has no rows or columns to show: inlet sync billing copies it (inlet catalog source:billing shows the source).',
        });
      await expect(own.table('billing.invoices')).rejects.toMatchObject({
        message: expect.stringMatching(/^No table, view or model named "billing.invoices"/),
      });
      // A model that reads it has it upstream, and its source before it, as a synced table has.
      writeProjectFile(unsynced.project_dir, 'models/plan_list.sql', 'SELECT * FROM billing.plans');
      expect((await own.table('plan_list')).upstream).toEqual(['billing.plans', 'source:billing']);
    } finally {
      own.close();
    }
  });
});

describe('a model not built yet over a lake table nothing has written yet', () => {
  it("says which table is not written yet and what writes it, where it blamed the model's SQL", async () => {
    const csv = join(temp.dir, 'invoices.csv');
    writeFileSync(csv, 'id\n1\n');
    const fresh = testConfig(
      join(temp.dir, 'unwritten'),
      {
        project_dir: join(temp.dir, 'unwritten-project'),
        sources: [
          { name: 'billing', type: 'csv', tables: [{ path: csv, name: 'invoices' }] },
          {
            name: 'web',
            type: 'file',
            path: join(temp.dir, 'web.log'),
            format: 'nginx_combined',
            table: 'web_access',
          },
        ],
      },
      { configPath: join(temp.dir, 'inlet.yaml') },
    );
    await writeEvents(dataLayout(fresh.data_dir), [{ ts: '2026-11-20T10:00:00Z', name: 'login' }]);
    const model = (name: string, sql: string) =>
      writeProjectFile(
        fresh.project_dir,
        `models/${name}.sql`,
        `/*---\ncolumns:\n  n: Documented.\n---*/\n${sql}`,
      );
    model('over_web', 'SELECT count(*) AS n FROM web_access');
    model('over_invoices', 'SELECT count(*) AS n FROM Billing.Invoices');
    model('over_refunds', 'SELECT count(*) AS n FROM billing.refunds');
    model('over_typo', 'SELECT count(*) AS n FROM acess_logs');
    model('broken', 'SELECT no_such_column AS n FROM events');
    const own = createCatalog({ config: fresh, logger });
    const note = async (name: string) =>
      (await own.table(name)).columns_note?.replace(
        'Its columns are those its YAML documents, of a type not known yet: ',
        '',
      );
    try {
      // The built-in mart over access_logs, which the HTTP log intake and a file source with no table: write.
      expect(await note('access_log_traffic_daily')).toBe(
        'it reads access_logs, which no log source has written yet; access_logs appears once the first log lines are written to the lake: run inlet sync <source> for a source of type: file (or let inlet start tail it), or send logs to POST /logs (docs/logs.md).',
      );
      expect((await own.tables()).find((t) => t.name === 'access_log_traffic_daily')?.columns_note).toContain(
        'it reads access_logs, which no log source has written yet',
      );
      expect(await note('over_web')).toBe(
        'it reads web_access, which no log source has written yet: it appears once the log source web, which writes it, has synced (inlet sync web, or inlet start tails it).',
      );
      expect(await note('over_invoices')).toBe(
        'it reads billing.invoices, a table the source billing copies, not synced yet: inlet sync billing copies it.',
      );
      expect(await note('over_refunds')).toBe(
        'it reads billing.refunds, which is not in the lake (source billing has no table refunds in inlet.yaml (its tables are invoices); correct the name, or add the table to its tables:).',
      );
      expect(await note('over_typo')).toBe(
        'it reads acess_logs, which is neither a table of the lake nor a model, and which no source in inlet.yaml writes (no log source has table: acess_logs): correct the name in its SQL; inlet catalog lists the tables.',
      );
      // A genuine error in the SQL is still said as DuckDB says it.
      expect(await note('broken')).toMatch(
        /^DuckDB cannot describe its SQL \(.*no_such_column.*\); inlet run broken says what is wrong\.$/,
      );
    } finally {
      own.close();
    }
  });
});

describe('a table whose view cannot be built', () => {
  it('is listed with the reason, and every other table is described', async () => {
    const broken = testConfig(join(temp.dir, 'broken'), { models: { builtin: false } });
    const layout = dataLayout(broken.data_dir);
    await writeEvents(layout, [{ ts: '2026-11-20T10:00:00Z', name: 'login' }]);
    const dir = join(layout.lake, 'sources', 'crm', 'customers');
    mkdirSync(dir, { recursive: true });
    const writer = await (await DuckDBInstance.create(':memory:')).connect();
    await writer.run(`COPY (SELECT 1 AS id, 'Aoki' AS name) TO '${dir}/run-1.parquet'`);
    writer.closeSync();
    writeLakeTable(dir, {
      name: 'crm.customers',
      kind: 'source',
      files: '*.parquet',
      merge: { key: ['customer_id'], order_by: 'id' },
    });
    const own = createCatalog({ config: broken, logger });
    try {
      const tables = await own.tables();
      expect(tables.map((t) => [t.name, t.rows, t.unavailable ?? null])).toEqual([
        ['crm.customers', null, expect.stringContaining('customer_id')],
        ['events', 1, null],
      ]);
      const customers = await own.table('crm.customers');
      expect(customers).toMatchObject({ kind: 'source_table', files: 1, columns: [] });
      expect(customers.unavailable).toContain('_table.json');
    } finally {
      own.close();
    }
  });
});

describe('a lake that cannot be listed', () => {
  it('is LAKE_UNREADABLE naming the path, as inlet query says it, when lake/events is a file', async () => {
    const blocked = testConfig(join(temp.dir, 'events-file'), { models: { builtin: false } });
    const layout = dataLayout(blocked.data_dir);
    mkdirSync(layout.lake, { recursive: true });
    writeFileSync(join(layout.lake, 'events'), 'not a folder\n');
    const own = createCatalog({ config: blocked, logger });
    try {
      await expect(own.tables()).rejects.toMatchObject({
        code: 'LAKE_UNREADABLE',
        status: 503,
        message: expect.stringMatching(
          /^The lake's tables cannot be read, so no model can be built or tested and the catalog cannot list them \(ENOTDIR: not a directory, scandir '.*lake\/events'\)\. .*move what is there out of the lake/,
        ),
      });
    } finally {
      own.close();
    }
  });
});

describe('a models project that cannot be read', () => {
  it('is logged as its code and message, without a stack trace, and the lake is still listed', async () => {
    const broken = testConfig(join(temp.dir, 'unreadable-project'), {
      project_dir: join(temp.dir, 'unreadable-project', 'project'),
      models: { builtin: false },
    });
    await writeEvents(dataLayout(broken.data_dir), [{ ts: '2026-11-20T10:00:00Z', name: 'login' }]);
    writeProjectFile(broken.project_dir, 'models/orders.sql', "SELECT * FROM {{ ref('nosuch') }}");
    const { logger: capturing, lines } = capturingLogger<{ code?: string; error?: string; err?: unknown }>();
    const own = createCatalog({ config: broken, logger: capturing });
    try {
      expect((await own.tables()).map((t) => t.name)).toEqual(['events']);
      // A model not built yet cannot be told from a typo then: the message says why, not only "no such table".
      await expect(own.table('orders')).rejects.toMatchObject({
        code: 'NOT_FOUND',
        message: expect.stringMatching(
          /^No table, view or model named "orders"; .*; the models project could not be read, so a model not built yet cannot be shown; fix this first: .*ref\('nosuch'\)/,
        ),
      });
    } finally {
      own.close();
    }
    const warning = lines.find((line) => line.msg.startsWith('the models project could not be read'));
    expect(warning).toMatchObject({
      code: 'MODEL_REF_MISSING',
      error: expect.stringContaining('nosuch'),
    });
    expect(warning?.err).toBeUndefined();
    expect(JSON.stringify(warning)).not.toContain('    at ');
  });
});

describe('files that go away under the catalog', () => {
  it('reads again when a WAL segment it listed is gone before DuckDB reads it (a loader in another process)', async () => {
    const racing = testConfig(join(temp.dir, 'race'), { models: { builtin: false } });
    const gone = walWithMissingSegment(dataLayout(racing.data_dir), 2);
    const races: string[] = [];
    const own = createCatalog({
      config: racing,
      logger,
      leases: { ...createReadLeases(), retiring: gone.retiring },
      onFileRace: (detail) => races.push(detail),
    });
    try {
      expect((await own.tables()).map((t) => [t.name, t.rows])).toEqual([['events', 1]]);
      expect(races.length).toBeGreaterThan(0);
      expect(races[0]).toContain('0000000000000002.log');
    } finally {
      own.close();
    }
  });

  it('answers QUERY_BUSY when files keep going away, and leaves out segments the loader retired', async () => {
    const racing = testConfig(join(temp.dir, 'leases'), { models: { builtin: false } });
    const layout = dataLayout(racing.data_dir);
    const gone = walWithMissingSegment(layout, 3);
    const retired = segmentPath(layout.walEvents, 2);
    writeFileSync(retired, walRecord({ event_id: 'loaded', ts: '2026-11-20T10:00:00.000Z' }));
    const leases = createReadLeases();
    // A query still running holds the loaded segment on disk; nothing may list it any more.
    const query = leases.begin();
    void leases.retire(retired);
    const own = createCatalog({
      config: racing,
      logger,
      leases: { ...leases, retiring: (path) => gone.retiring(path) || leases.retiring(path) },
      // Gone at every look: a loader that keeps loading and deleting a segment.
      onFileRace: gone.restore,
    });
    try {
      await expect(own.tables()).rejects.toMatchObject({ code: 'QUERY_BUSY', status: 503 });
      expect((await own.tables()).map((t) => [t.name, t.rows])).toEqual([['events', 1]]);
      // The catalog, open still, holds no lease between looks: the segment is deleted once the query ends.
      query();
      await leases.settled();
      expect(existsSync(retired)).toBe(false);
    } finally {
      own.close();
    }
  });
});

describe('freshness', () => {
  it('is not moved by an empty WAL segment, which inlet start opens with no event in it', async () => {
    // Each start of the collector opens a new, empty segment: events showed as updated then, so a
    // restarted collector that received nothing looked fresh.
    const restarted = testConfig(join(temp.dir, 'restarted'), { models: { builtin: false } });
    const layout = dataLayout(restarted.data_dir);
    await writeEvents(layout, [{ ts: '2026-11-20T10:00:00Z' }]);
    const loadedAt = new Date('2026-11-20T10:05:00Z');
    for (const file of readdirSync(layout.events, { recursive: true, encoding: 'utf8' }))
      if (file.endsWith('.parquet')) utimesSync(join(layout.events, file), loadedAt, loadedAt);
    mkdirSync(layout.walEvents, { recursive: true });
    writeFileSync(segmentPath(layout.walEvents, 7), '');
    const own = createCatalog({ config: restarted, logger });
    try {
      expect((await own.table('events')).updated_at).toBe(loadedAt.toISOString());
    } finally {
      own.close();
    }
  });
});

describe("events' files", () => {
  it('count neither an empty WAL segment nor a .log file that is no segment, as queries read neither', async () => {
    // After a restart, inlet catalog events said files: 6 for a lake of 5 files and an empty WAL, as
    // it counted the empty segment inlet start opens (and garbage.log, which nothing reads or loads).
    const restarted = testConfig(join(temp.dir, 'restarted-files'), { models: { builtin: false } });
    const layout = dataLayout(restarted.data_dir);
    await writeEvents(layout, [{ ts: '2026-11-20T10:00:00Z' }]);
    const own = createCatalog({ config: restarted, logger });
    try {
      const lake = await own.table('events');
      mkdirSync(layout.walEvents, { recursive: true });
      writeFileSync(segmentPath(layout.walEvents, 7), '');
      writeFileSync(join(layout.walEvents, 'garbage.log'), 'not a segment\n');
      expect(await own.table('events')).toMatchObject({ files: lake.files, bytes: lake.bytes, rows: 1 });
      // A segment with records is read, and counted.
      writeFileSync(
        segmentPath(layout.walEvents, 8),
        walRecord({ event_id: 'in-the-wal', ts: '2026-11-20T11:00:00Z' }),
      );
      const withWal = await own.table('events');
      expect([withWal.files, withWal.rows]).toEqual([lake.files + 1, 2]);
    } finally {
      own.close();
    }
  });
});

describe('a symbolic link among the files of a table', () => {
  it('is counted in neither its files nor its bytes, as queries leave it out, in a mart and a source table', async () => {
    // inlet catalog said files: 2 and twice the bytes of a mart whose version held one file and a
    // link to a copy of it outside the lake, whose rows no query reads.
    const linked = testConfig(join(temp.dir, 'linked'), {
      project_dir: join(temp.dir, 'linked-project'),
      models: { builtin: false },
    });
    writeProjectFile(linked.project_dir, 'models/totals.sql', 'SELECT 1 AS n');
    expect((await runModels({ config: linked, logger, selectors: ['totals'] })).ok).toBe(true);
    const layout = dataLayout(linked.data_dir);
    const customers = join(layout.lake, 'sources', 'crm', 'customers');
    mkdirSync(customers, { recursive: true });
    const writer = await (await DuckDBInstance.create(':memory:')).connect();
    await writer.run(`COPY (SELECT 1 AS id, 'Aoki' AS name) TO '${customers}/part-1.parquet'`);
    writer.closeSync();
    writeLakeTable(customers, { name: 'crm.customers', kind: 'source', files: 'part-*.parquet' });
    const mart = join(layout.lake, 'marts', 'totals');
    const version = join(mart, readdirSync(mart).find((name) => name.startsWith('v-')) ?? '');
    const own = createCatalog({ config: linked, logger });
    try {
      const counted = async () =>
        (await own.tables())
          .filter((table) => table.name !== 'events')
          .map((table) => [table.name, table.rows, table.files, table.bytes]);
      const before = await counted();
      expect(before.map(([name, rows, files]) => [name, rows, files])).toEqual([
        ['crm.customers', 1, 1],
        ['totals', 1, 1],
      ]);
      for (const [dir, file] of [
        [customers, 'part-1.parquet'],
        [version, 'data.parquet'],
      ] as const) {
        const outside = join(temp.dir, `linked-${file}`);
        copyFileSync(join(dir, file), outside);
        symlinkSync(outside, join(dir, `part-2-${file}`));
      }
      expect(await counted()).toEqual(before);
    } finally {
      own.close();
    }
  });
});
