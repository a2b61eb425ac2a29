import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capturedOutput, sourceContext, tempDir, testConfig } from '../../test/helpers.ts';
import { writeProjectFile } from '../../test/lake-fixtures.ts';
import { type Catalog, createCatalog } from '../catalog/index.ts';
import { catalogCommand } from '../cli/catalog.ts';
import { lsCommand } from '../cli/ls.ts';
import { type InletConfig, workflowSchema } from '../config/index.ts';
import { listLakeTables, TABLE_MANIFEST } from '../lake/index.ts';
import { createSilentLogger } from '../log/index.ts';
import { loadWorkflows } from '../scheduler/index.ts';
import { createSources } from '../sources/index.ts';
import { openStateStore } from '../state/index.ts';
import { openProject, runModels, selectNodes, testModels } from './index.ts';

// dbt's sources: in a properties file and {{ source() }} in a model, over tables inlet.yaml's
// sources: copy into the lake (a CSV source here, synced for real).

const temp = tempDir();
const logger = createSilentLogger();
let config: InletConfig;
let catalog: Catalog;
const project = (path: string, text: string) => writeProjectFile(config.project_dir, path, text);

const SOURCES_YAML = `version: 2
sources:
  - name: crm
    description: Our CRM, copied nightly.
    schema: public
    loader: inlet
    tables:
      - name: customers
        description: One row per customer account.
        columns:
          - name: account_id
            description: The customer account's id.
            data_tests: [unique, not_null]
          - name: name
            description: The account's name.
            tests: [not_null]
`;

beforeAll(async () => {
  const customers = join(temp.dir, 'customers.csv');
  writeFileSync(customers, 'id,name,account_id\n1,Aoki Co.,acct_1\n2,,acct_2\n');
  const sides = join(temp.dir, 'sides.csv');
  writeFileSync(sides, 'side\nport\n');
  config = testConfig(join(temp.dir, 'data'), {
    project_dir: join(temp.dir, 'project'),
    models: { builtin: false },
    sources: [
      { name: 'crm', type: 'csv', tables: [{ path: customers, name: 'customers' }] },
      // A keyword as a source's name: its tables read as "left".sides.
      { name: 'left', type: 'csv', tables: [{ path: sides, name: 'sides' }] },
    ],
  });
  const state = openStateStore(join(config.data_dir, 'state.sqlite'));
  for (const source of createSources(config)) await source.sync(sourceContext(config, state));
  state.close();
  project('models/_sources.yml', SOURCES_YAML);
  project(
    'models/accounts.sql',
    "SELECT account_id, name FROM {{ source('crm', 'customers') }} CROSS JOIN {{ source(\"left\", 'sides') }}",
  );
  const result = await runModels({ config, logger });
  expect(result.models.map((m) => [m.name, m.status, m.message ?? null])).toEqual([
    ['accounts', 'success', null],
  ]);
  catalog = createCatalog({ config, logger });
});
afterAll(() => {
  catalog?.close();
  temp.cleanup();
});

describe("dbt's sources:", () => {
  it('builds a model from source() tables, a keyword-named source included', async () => {
    const accounts = await catalog.table('accounts');
    expect(accounts.rows).toBe(2);
    expect(accounts.upstream).toEqual(['crm.customers', 'left.sides', 'source:crm', 'source:left']);
  });

  it('counts a source() as reading that table in lineage', async () => {
    const { edges } = await catalog.lineage();
    expect(edges).toContainEqual({ from: 'crm.customers', to: 'accounts' });
    expect(edges).toContainEqual({ from: 'left.sides', to: 'accounts' });
  });

  it("shows the source table's description and columns in the catalog, and models inherit them", async () => {
    const customers = await catalog.table('crm.customers');
    expect(customers.description).toBe('One row per customer account.');
    expect(customers.tests).toEqual(['unique(account_id)', 'not_null(account_id)', 'not_null(name)']);
    const described = Object.fromEntries(customers.columns.map((c) => [c.name, c.description]));
    expect(described).toMatchObject({
      account_id: "The customer account's id.",
      name: "The account's name.",
    });
    const accounts = await catalog.table('accounts');
    expect(accounts.columns.find((c) => c.name === 'account_id')).toMatchObject({
      description: "The customer account's id.",
      description_from: 'crm.customers',
    });
  });

  it("shows a source's own description with its tables, on its lineage node and in inlet catalog <table>", async () => {
    const customers = await catalog.table('crm.customers');
    expect(customers.source).toEqual({ name: 'crm', description: 'Our CRM, copied nightly.' });
    const listed = await catalog.tables();
    expect(listed.find((t) => t.name === 'left.sides')?.source).toEqual({ name: 'left', description: null });
    expect(listed.find((t) => t.name === 'accounts')?.source).toBeUndefined();
    const { nodes } = await catalog.lineage();
    expect(nodes.find((n) => n.id === 'source:crm')).toEqual({
      id: 'source:crm',
      kind: 'source',
      built: true,
      description: 'Our CRM, copied nightly.',
    });
    expect(nodes.find((n) => n.id === 'source:left')).toEqual({
      id: 'source:left',
      kind: 'source',
      built: true,
    });
    const captured = capturedOutput();
    const args = ['crm.customers', '--format', 'table'];
    expect(await catalogCommand(args, config, logger, captured.output)).toBe(0);
    expect(captured.out.split('\n').slice(0, 3)).toEqual([
      'crm.customers (source_table)',
      '  One row per customer account.',
      '  source crm: Our CRM, copied nightly.',
    ]);
  });

  it("shows a source by dbt's source:crm in inlet catalog, and points there from a table lookup", async () => {
    const shown = async (...args: string[]) => {
      const captured = capturedOutput();
      const code = await catalogCommand(args, config, logger, captured.output);
      return { code, out: captured.out };
    };
    const text = await shown('source:crm', '--format', 'table');
    expect(text.code).toBe(0);
    expect(text.out.split('\n').slice(0, 2)).toEqual(['source crm', '  Our CRM, copied nightly.']);
    expect(text.out.split('\n')[3]).toMatch(
      /^name +│ rows +│ size +│ partitions +│ updated_at +│ description/,
    );
    expect(text.out).toMatch(/crm\.customers +│ 2 +│ .*One row per customer account\./);
    // As CSV, its tables as inlet catalog --format csv lists them: bytes, a number of them.
    expect((await shown('source:crm', '--format', 'csv')).out.split('\r\n').slice(0, 2)).toEqual([
      expect.stringMatching(/^name,kind,materialized,rows,bytes,partitions,first_partition,last_partition,/),
      expect.stringMatching(/^crm\.customers,source_table,,2,\d+,\d+,/),
    ]);
    const json = JSON.parse((await shown('source:crm.*', '--format', 'json')).out);
    expect(json).toMatchObject({ name: 'crm', description: 'Our CRM, copied nightly.', not_synced: [] });
    expect(json.tables.map((t: { name: string }) => t.name)).toEqual(['crm.customers']);
    // A source no properties file describes, and one inlet.yaml does not have.
    expect(await catalog.source('left')).toMatchObject({ name: 'left', description: null });
    await expect(catalog.source('erp')).rejects.toThrow(
      /No source named "erp"; a new \.\/inlet\.yaml's sources are crm, left/,
    );
    // Through the table lookup (GET /api/catalog/source:crm): the source, with its tables by name.
    await expect(catalog.table('source:crm')).rejects.toThrow(
      /"source:crm" is a source, not a table: inlet catalog source:crm shows it; its tables are crm\.customers/,
    );
    expect((await catalog.table('source:crm.customers')).name).toBe('crm.customers');
  });

  it('shows a source inlet.yaml leaves out for an unset variable with its tables in the lake, as not configured', async () => {
    // Left out, the source was shown with not_synced: [], as if every table it copies were synced;
    // read from prod.yaml, inlet catalog said inlet.yaml left it out.
    const leftOut = {
      ...config,
      configPath: join(temp.dir, 'prod.yaml'),
      sources: config.sources.filter((s) => s.name !== 'crm'),
      sourcesLeftOut: ['crm'],
      sourcesLeftOutBy: { crm: 'CRM_URL' },
    };
    const unconfigured = createCatalog({ config: leftOut, logger });
    try {
      const source = await unconfigured.source('source:crm');
      expect(source).toMatchObject({
        name: 'crm',
        description: 'Our CRM, copied nightly.',
        not_synced: null,
        configured: false,
      });
      expect(source.tables.map((t) => t.name)).toEqual(['crm.customers']);
      expect((await catalog.source('crm')).configured).toBe(true);
      const captured = capturedOutput();
      expect(
        await catalogCommand(['source:crm', '--format', 'table'], leftOut, logger, captured.output),
      ).toBe(0);
      expect(captured.out.split('\n').slice(0, 3)).toEqual([
        'source crm',
        '  Our CRM, copied nightly.',
        '  not configured: prod.yaml leaves it out, as the environment variable CRM_URL in its entry is not set, so nothing syncs it and the tables it copies cannot be listed; its tables below are from earlier syncs. To sync it, set CRM_URL (export CRM_URL=…).',
      ]);
      expect(captured.out).toMatch(/crm\.customers +│ 2 +│/);
    } finally {
      unconfigured.close();
    }
  });

  it('lets inlet docs check name a column the source table does not have, and no other of its columns', async () => {
    expect((await catalog.docsCheck()).filter((gap) => gap.table === 'crm.customers')).toEqual([]);
    project('models/_sources.yml', SOURCES_YAML.replace('- name: name', '- name: nmae'));
    try {
      expect((await catalog.docsCheck()).filter((gap) => gap.table === 'crm.customers')).toEqual([
        { table: 'crm.customers', column: 'nmae', problem: 'not_a_column' },
      ]);
    } finally {
      project('models/_sources.yml', SOURCES_YAML);
    }
  });

  it("takes sources:' descriptions over the database's comments in the table's manifest", async () => {
    // A PostgreSQL or MySQL source writes its comments into the manifest at each sync.
    const lake = listLakeTables(join(config.data_dir, 'lake'));
    const path = join(lake.find((t) => t.table.name === 'crm.customers')?.dir ?? '', TABLE_MANIFEST);
    const manifest = JSON.parse(readFileSync(path, 'utf8'));
    writeFileSync(
      path,
      JSON.stringify({
        ...manifest,
        description: 'COMMENT ON TABLE customers',
        columns: { ...manifest.columns, account_id: 'COMMENT ON COLUMN account_id', id: 'The row id.' },
      }),
    );
    const fresh = createCatalog({ config, logger });
    try {
      const customers = await fresh.table('crm.customers');
      expect(customers.description).toBe('One row per customer account.');
      const described = Object.fromEntries(customers.columns.map((c) => [c.name, c.description]));
      expect(described).toMatchObject({ account_id: "The customer account's id.", id: 'The row id.' });
    } finally {
      fresh.close();
      writeFileSync(path, JSON.stringify(manifest));
    }
  });

  it("runs the source table's column tests with inlet test", async () => {
    const { ok, tests } = await testModels({ config });
    expect(ok).toBe(false);
    expect(tests.map((t) => [t.model, t.name, t.status, t.failures])).toEqual([
      ['crm.customers', 'unique(account_id)', 'pass', 0],
      ['crm.customers', 'not_null(account_id)', 'pass', 0],
      ['crm.customers', 'not_null(name)', 'fail', 1],
    ]);
  });

  it("picks a source table's tests by dbt's source: selector, and leaves them out of a model's", async () => {
    const names = async (selectors: string[], exclude: string[] = []) =>
      (await testModels({ config, selectors, exclude })).tests.map((t) => `${t.model} ${t.name}`);
    const customers = [
      'crm.customers unique(account_id)',
      'crm.customers not_null(account_id)',
      'crm.customers not_null(name)',
    ];
    expect(await names(['source:crm'])).toEqual(customers);
    expect(await names(['source:crm.customers', 'source:crm'])).toEqual(customers);
    // dbt's source:crm.* is every table of the source, as source:crm is.
    expect(await names(['source:crm.*'])).toEqual(customers);
    expect(await names([], ['source:crm.*'])).toEqual([]);
    expect(await names(['accounts'])).toEqual([]);
    expect(await names([], ['source:crm'])).toEqual([]);
    await expect(names(['source:erp'])).rejects.toThrow(
      /"source:erp" names no source table described under sources: in a properties file \(described: crm\.customers\)/,
    );
  });

  it('takes source: in a workflow test step, checked against the sources: described', () => {
    // Read from prod.yaml, a source not there was said to be no source in inlet.yaml.
    const withStep = (step: string) => () =>
      loadWorkflows({
        ...config,
        configPath: join(temp.dir, 'prod.yaml'),
        workflows: [workflowSchema.parse({ name: 'nightly', cron: '0 5 * * *', steps: [step] })],
      });
    expect(withStep('test source:crm --exclude source:crm.customers')).not.toThrow();
    expect(withStep('test source:erp')).toThrow(
      /"test source:erp" names no model or seed: "source:erp" names no source table described under sources:/,
    );
    expect(withStep('run source:crm')).toThrow(
      /"source:crm" selects a source's tables, which are synced \(inlet sync crm\), not built: inlet run builds none of them\. source:crm\+ selects the models that read them/,
    );
    expect(withStep('run source:erp')).toThrow(
      /"source:erp" names no source: erp is not a source in prod\.yaml \(its sources are crm, left\)/,
    );
    // source:crm+ selects the models that read it, in a run step and a test step alike.
    expect(withStep('run source:crm+')).not.toThrow();
    expect(withStep('test source:crm+,accounts')).not.toThrow();
    expect(withStep('test source:crm.* --exclude source:left.*+')).not.toThrow();
    expect(withStep('test source:left+ --exclude source:crm.customers+')).not.toThrow();
    expect(withStep('run source:crm+ --exclude source:crm')).not.toThrow();
    expect(withStep('run source:crm+ --exclude source:erp')).toThrow(
      /"source:erp" names no source to leave out/,
    );
    expect(withStep('run source:erp+')).toThrow(
      /"run source:erp\+" names no model or seed: "source:erp\+" names no source/,
    );
  });

  it('names a source left out for an unset variable among the sources when a source: selector names none', () => {
    // README's crm, its URL unset: inlet run source:erp+ said "its sources are left", as if crm were not there.
    const leftOut = {
      ...config,
      sources: config.sources.filter((s) => s.name !== 'crm'),
      sourcesLeftOut: ['crm'],
    };
    expect(() => selectNodes(openProject(leftOut).graph, ['source:erp+'])).toThrow(
      /"source:erp\+" names no source to select from: erp is not a source in a new \.\/inlet\.yaml \(its sources are left, crm\)/,
    );
  });

  it("selects the models downstream of a source by dbt's source:crm+ and source:crm.customers+", async () => {
    const added = {
      // Read by name, as inlet's models may, and tested.
      'models/named.sql':
        '/*---\ncolumns:\n  n: { tests: [not_null] }\n---*/\nSELECT count(*) AS n FROM crm.customers',
      'models/quoted.sql': 'SELECT count(*) AS n FROM "left"."sides"',
      'models/totals.sql': "SELECT count(*) AS n FROM {{ ref('accounts') }}",
      // crm here is an alias, and crm.customers a comment and a string: it reads no table of crm.
      'models/noted.sql':
        "-- not crm.customers\nSELECT 'crm.customers' AS s FROM (SELECT 1 AS id) AS crm WHERE crm.id = 1",
    };
    for (const [path, text] of Object.entries(added)) project(path, text);
    try {
      const select = (selectors: string[], exclude: string[] = []) =>
        selectNodes(openProject(config).graph, selectors, exclude);
      expect(select(['source:crm+'])).toEqual(['accounts', 'named', 'totals']);
      expect(select(['source:crm.customers+1'])).toEqual(['accounts', 'named']);
      expect(select(['source:crm.*+'])).toEqual(['accounts', 'named', 'totals']);
      expect(select(['source:crm.*+1'])).toEqual(['accounts', 'named']);
      expect(select([], ['source:crm.*+'])).toEqual(['noted', 'quoted']);
      // dbt's intersection: the models both sides pick.
      expect(select(['source:crm+,source:left+'])).toEqual(['accounts', 'totals']);
      expect(select(['totals,source:crm+'])).toEqual(['totals']);
      expect(select(['source:left.sides+'])).toEqual(['accounts', 'quoted', 'totals']);
      expect(select([], ['source:crm+'])).toEqual(['noted', 'quoted']);
      // dbt's --exclude source:crm leaves out the source's nodes, which run never builds: nothing here.
      expect(select(['source:crm+'], ['source:crm'])).toEqual(['accounts', 'named', 'totals']);
      expect(select(['source:crm+'], ['source:crm.customers', 'source:left.*'])).toEqual([
        'accounts',
        'named',
        'totals',
      ]);
      expect(select(['source:crm+'], ['source:crm,totals'])).toEqual(['accounts', 'named', 'totals']);
      expect(() => select(['source:crm+'], ['source:erp'])).toThrow(
        /"source:erp" names no source to leave out: erp is not a source in a new \.\/inlet\.yaml \(its sources are crm, left\)/,
      );
      expect(() => select(['source:erp+'])).toThrow(
        /"source:erp\+" names no source to select from: erp is not a source in a new \.\/inlet\.yaml \(its sources are crm, left\)/,
      );
      expect(() => select(['source:crm.orders+'])).toThrow(
        /"source:crm\.orders\+" names no source to select from: source crm has no table orders in a new \.\/inlet\.yaml \(its tables are customers\)/,
      );
      expect(() => select(['+source:crm'])).toThrow(
        /"\+source:crm": a source has nothing upstream to select/,
      );
      // inlet run builds them; inlet test tests the source's tables and them.
      const run = await runModels({ config, logger, selectors: ['source:crm+'] });
      expect(run.models.map((m) => [m.name, m.status])).toEqual([
        ['accounts', 'success'],
        ['named', 'success'],
        ['totals', 'success'],
      ]);
      // --exclude source:crm, as dbt takes it: the source is not built anyway; source:crm+ leaves its readers out.
      const kept = await runModels({ config, logger, selectors: ['source:crm+'], exclude: ['source:crm'] });
      expect(kept.models.map((m) => m.name)).toEqual(['accounts', 'named', 'totals']);
      const none = await runModels({ config, logger, selectors: ['totals+'], exclude: ['source:crm+'] });
      expect(none.models).toEqual([]);
      const tested = await testModels({ config, selectors: ['source:crm+'] });
      expect(tested.tests.map((t) => `${t.model} ${t.name}`).sort()).toEqual([
        'crm.customers not_null(account_id)',
        'crm.customers not_null(name)',
        'crm.customers unique(account_id)',
        'named not_null(n)',
      ]);
      // An intersection picks models only: none of the source's own tests.
      const both = await testModels({ config, selectors: ['source:crm+,named'] });
      expect(both.tests.map((t) => `${t.model} ${t.name}`)).toEqual(['named not_null(n)']);
      // A source no properties file describes has no tests, and its models are still picked.
      const left = await testModels({ config, selectors: ['source:left+'], exclude: ['quoted'] });
      expect(left.tests.map((t) => `${t.model} ${t.name}`)).toEqual([]);
    } finally {
      for (const path of Object.keys(added)) rmSync(join(config.project_dir, path));
    }
  });

  it("takes dbt's @source:crm (what reads it, downstream, and all they need) and +source:crm+", () => {
    const added = {
      'models/regions.sql': 'SELECT 1 AS region_id',
      'models/by_region.sql': "SELECT * FROM crm.customers, {{ ref('regions') }}",
      'models/region_totals.sql': "SELECT count(*) AS n FROM {{ ref('by_region') }}",
    };
    for (const [path, text] of Object.entries(added)) project(path, text);
    try {
      const select = (selectors: string[]) => selectNodes(openProject(config).graph, selectors);
      const downstream = select(['source:crm+']);
      expect(downstream).toContain('by_region');
      expect(downstream).not.toContain('regions');
      // regions reads no source, and by_region needs it: @ adds it, as dbt's @ adds the parents of
      // everything it selects downstream.
      const withRegions = select([]).filter((node) => downstream.includes(node) || node === 'regions');
      expect(select(['@source:crm'])).toEqual(withRegions);
      expect(select(['@source:crm.customers'])).toEqual(select(['@source:crm']));
      // A source has nothing upstream: +source:crm+ and 2+source:crm+1 are source:crm+ and source:crm+1.
      expect(select(['+source:crm+'])).toEqual(downstream);
      expect(select(['2+source:crm+1'])).toEqual(select(['source:crm+1']));
      expect(() => select(['+source:crm'])).toThrow(
        /a source has nothing upstream to select.*@source:<source>/,
      );
    } finally {
      for (const path of Object.keys(added)) rmSync(join(config.project_dir, path));
    }
  });

  it("takes dbt's source:<project>.<source>.<table>, the project being dbt_project.yml's name:", async () => {
    const select = (selectors: string[], exclude: string[] = []) =>
      selectNodes(openProject(config).graph, selectors, exclude);
    const tests = async (selectors: string[]) =>
      (await testModels({ config, selectors })).tests.map((t) => `${t.model} ${t.name}`);
    expect(() => select(['source:shop.crm.customers+'])).toThrow(
      /"source:shop\.crm\.customers\+" names the project shop, but this project's dbt_project\.yml has no name:; leave the project out \(source:crm\.customers\)/,
    );
    project('dbt_project.yml', 'name: shop\n');
    try {
      expect(select(['source:shop.crm.customers+'])).toEqual(['accounts']);
      expect(select(['source:shop.crm.*+'])).toEqual(['accounts']);
      expect(select([], ['source:shop.left.sides+'])).toEqual([]);
      expect(await tests(['source:shop.crm.customers'])).toEqual([
        'crm.customers unique(account_id)',
        'crm.customers not_null(account_id)',
        'crm.customers not_null(name)',
      ]);
      expect(await tests(['source:shop.crm.*'])).toHaveLength(3);
      expect(() => select(['source:shop.crm.customers'])).toThrow(
        /"source:shop\.crm\.customers" selects a source's table, which are synced \(inlet sync crm\)/,
      );
      expect(() => select(['source:web.crm.customers+'])).toThrow(
        /"source:web\.crm\.customers\+" names the project web, but this project is shop \(name: in dbt_project\.yml\); leave the project out \(source:crm\.customers\)/,
      );
      await expect(tests(['source:web.crm.customers'])).rejects.toThrow(
        /names the project web, but this project is shop/,
      );
      // As in dbt, two parts are a source and its table, whatever the project is named.
      expect(() => select(['source:shop.crm+'])).toThrow(
        /"source:shop\.crm\+" names no source to select from: shop is not a source in a new \.\/inlet\.yaml \(its sources are crm, left\).*; dbt reads it as source shop's table crm: source:shop\.crm\.\* names the tables of source crm of project shop\./,
      );
      expect(() => select(['source:shop.crm.customers.id+'])).toThrow(
        /"source:shop\.crm\.customers\.id\+" is not a source selector: dbt's are source:<source>, source:<source>\.<table> and source:<project>\.<source>\.<table>/,
      );
    } finally {
      rmSync(join(config.project_dir, 'dbt_project.yml'));
    }
  });

  it("matches dbt's wildcards in a source: selector (source:cr*, source:crm.cust*), as dbt's fnmatch", async () => {
    const select = (selectors: string[], exclude: string[] = []) =>
      selectNodes(openProject(config).graph, selectors, exclude);
    const tests = async (selectors: string[]) =>
      (await testModels({ config, selectors })).tests.map((t) => `${t.model} ${t.name}`);
    project('models/quoted.sql', 'SELECT count(*) AS n FROM "left"."sides"');
    try {
      expect(select(['source:cr*+'])).toEqual(['accounts']);
      expect(select(['source:crm.cust*+'])).toEqual(['accounts']);
      expect(select(['source:*+'])).toEqual(['accounts', 'quoted']);
      expect(select(['source:l?ft.[rs]ides+'])).toEqual(['accounts', 'quoted']);
      expect(select(['source:[!c]*+1'])).toEqual(['accounts', 'quoted']);
      expect(select([], ['source:*.cust*+'])).toEqual(['quoted']);
      expect(select(['source:*.*+'])).toEqual(['accounts', 'quoted']);
      expect(await tests(['source:cr*'])).toHaveLength(3);
      expect(await tests(['source:crm.cust*'])).toHaveLength(3);
      await expect(tests(['source:crm.order*+'])).rejects.toThrow(
        /"source:crm\.order\*\+" matches no source table/,
      );
      expect(() => select(['source:er*+'])).toThrow(
        /"source:er\*\+" matches no source table of a new \.\/inlet\.yaml \(its tables are crm\.customers, left\.sides\)/,
      );
      // Case as typed, as dbt's fnmatch on Linux.
      expect(() => select(['source:CR*+'])).toThrow(/"source:CR\*\+" matches no source table/);
      expect(() => select(['source:*'])).toThrow(
        /"source:\*" selects source tables \(crm\.customers, left\.sides\), which are synced \(inlet sync crm, inlet sync left\), not built: inlet run builds none of them\. source:\*\+ selects the models that read them/,
      );
    } finally {
      rmSync(join(config.project_dir, 'models/quoted.sql'));
    }
  });

  it("lists a source's tables with inlet ls source:crm, as dbt ls does, and with a + the models that read them", async () => {
    const listed = async (isTty: boolean, ...args: string[]) => {
      const captured = capturedOutput();
      const code = await lsCommand(args, config, logger, { ...captured.output, isTty });
      return [code, captured.out];
    };
    project('models/quoted.sql', 'SELECT count(*) AS n FROM "left"."sides"');
    try {
      expect(await listed(true, 'source:crm')).toEqual([0, 'source:crm.customers\n']);
      expect(await listed(false, 'source:crm')).toEqual([
        0,
        '{"name":"crm.customers","kind":"source_table","path":null}\n',
      ]);
      expect(await listed(true, 'source:crm+')).toEqual([0, 'source:crm.customers\naccounts\n']);
      expect(await listed(true, 'source:*', '--exclude', 'source:crm')).toEqual([0, 'source:left.sides\n']);
      expect(await listed(true, '-s', 'source:left+', '--exclude', 'source:left.sides')).toEqual([
        0,
        'accounts\nquoted\n',
      ]);
      expect(
        await listed(true, 'source:left.sides+1', 'source:crm.customers', '--exclude', 'quoted'),
      ).toEqual([0, 'source:crm.customers\nsource:left.sides\naccounts\n']);
      expect(await listed(true, 'accounts')).toEqual([0, 'accounts\n']);
      await expect(listed(true, 'source:erp')).rejects.toThrow(
        /"source:erp" names no source: erp is not a source/,
      );
      await expect(listed(true, '+source:crm')).rejects.toThrow(/a source has nothing upstream to select/);
      // As dbt ls, after the project's name; which a selector takes back.
      project('dbt_project.yml', 'name: shop\n');
      expect(await listed(true, 'source:crm')).toEqual([0, 'source:shop.crm.customers\n']);
      expect(await listed(true, 'source:shop.crm.customers')).toEqual([0, 'source:shop.crm.customers\n']);
    } finally {
      rmSync(join(config.project_dir, 'models/quoted.sql'));
      rmSync(join(config.project_dir, 'dbt_project.yml'), { force: true });
    }
  });

  it("finds dbt's source:<project>.crm.* and source:<project>.crm.customers in inlet catalog, as inlet ls prints them", async () => {
    const shown = async (...args: string[]) => {
      const captured = capturedOutput();
      const code = await catalogCommand(args, config, logger, captured.output);
      return [code, captured.out.split('\r\n')[1]];
    };
    project('dbt_project.yml', 'name: shop\n');
    try {
      expect(await shown('source:shop.crm.*', '--format', 'csv')).toEqual([
        0,
        expect.stringMatching(/^crm\.customers,source_table,/),
      ]);
      expect(await shown('source:shop.crm.customers', '--format', 'csv')).toEqual([0, 'id,BIGINT,,,']);
      expect((await catalog.table('source:shop.crm.customers')).name).toBe('crm.customers');
      expect((await catalog.source('source:shop.crm.*')).name).toBe('crm');
      // Another project's name says which project this is and what to type, as inlet run does.
      await expect(catalog.source('source:web.crm.*')).rejects.toThrow(
        /"source:web\.crm\.\*" names the project web, but this project is shop \(name: in dbt_project\.yml\); leave the project out: inlet catalog source:crm\.\* \(or source:shop\.crm\.\*\)\./,
      );
      await expect(catalog.table('source:web.crm.customers')).rejects.toThrow(
        /"source:web\.crm\.customers" names the project web, but this project is shop .*: inlet catalog source:crm\.customers \(or source:shop\.crm\.customers\)\./,
      );
      await expect(
        catalogCommand(['source:web.crm.*'], config, logger, capturedOutput().output),
      ).rejects.toThrow(/names the project web, but this project is shop/);
    } finally {
      rmSync(join(config.project_dir, 'dbt_project.yml'));
    }
  });

  it("reads one source's tables from several properties files, as dbt does, but each table once", () => {
    const [head = '', tables = ''] = SOURCES_YAML.split('    tables:\n');
    project('models/_sources.yml', head);
    project('models/staging/_crm.yml', `version: 2\nsources:\n  - name: crm\n    tables:\n${tables}`);
    try {
      const crm = openProject(config).project.sources.get('crm');
      expect(crm?.description).toBe('Our CRM, copied nightly.');
      expect([...(crm?.tables.values() ?? [])].map((t) => [t.name, t.config.description])).toEqual([
        ['crm.customers', 'One row per customer account.'],
      ]);
      project('models/_sources.yml', SOURCES_YAML);
      expect(() => openProject(config)).toThrow(
        /_crm\.yml: sources\[0\]\.tables\[0\]: declares crm\.customers a second time \(also in .*_sources\.yml \(source table crm\.customers\)\); give each table once/,
      );
    } finally {
      rmSync(join(config.project_dir, 'models/staging'), { recursive: true });
      project('models/_sources.yml', SOURCES_YAML);
    }
  });

  it("reads dbt's schema: and identifier: as the source and table of inlet.yaml that source() reads", async () => {
    // dbt's source raw_crm is in schema CRM, and its table clients is named customers there.
    const yaml = `version: 2
sources:
  - name: raw_crm
    schema: CRM
    description: Our CRM, as dbt named it.
    tables:
      - name: clients
        identifier: customers
        description: One row per client.
        columns:
          - name: account_id
            data_tests: [unique]
`;
    project('models/_sources.yml', yaml);
    // Its tests name the table as source() does too.
    project(
      'models/clients.sql',
      `/*---
columns:
  account_id: { tests: [{ relationships: { to: "source('raw_crm', 'clients')", field: account_id } }] }
tests:
  - sql: "SELECT * FROM {{ source('raw_crm', 'clients') }} WHERE account_id IS NULL"
---*/
SELECT account_id FROM {{ source('raw_crm', 'clients') }}`,
    );
    try {
      const { project: read, graph } = openProject(config);
      expect(read.nodes.get('clients')?.sources).toEqual(['crm.customers']);
      expect(selectNodes(graph, ['source:raw_crm.clients+'])).toEqual(['accounts', 'clients']);
      expect(selectNodes(graph, ['source:raw_crm+'])).toEqual(['accounts', 'clients']);
      expect(selectNodes(graph, ['source:raw_crm.*+'])).toEqual(['accounts', 'clients']);
      // Without a +, what is wrong says which names work: dbt's, and inlet.yaml's it maps them to.
      expect(() => selectNodes(graph, ['source:raw_crm'])).toThrow(
        /"source:raw_crm" selects a source's tables \(raw_crm is dbt's name, by its sources: entry, for crm of a new \.\/inlet\.yaml\), which are synced \(inlet sync crm\), not built: inlet run builds none of them\. source:raw_crm\+ \(or source:crm\+\) selects the models that read them/,
      );
      expect(() => selectNodes(graph, ['source:raw_crm.clients'])).toThrow(
        /\(raw_crm\.clients is dbt's name, by its sources: entry, for crm\.customers of a new \.\/inlet\.yaml\).* source:raw_crm\.clients\+ \(or source:crm\.customers\+\) selects the models that read it/,
      );
      const run = await runModels({ config, logger, selectors: ['clients'] });
      expect(run.models.map((m) => [m.name, m.status, m.message ?? null])).toEqual([
        ['clients', 'success', null],
      ]);
      expect((await catalog.table('clients')).upstream).toEqual(['crm.customers', 'source:crm']);
      const customers = await catalog.table('crm.customers');
      expect(customers.description).toBe('One row per client.');
      expect(customers.source).toEqual({ name: 'crm', description: 'Our CRM, as dbt named it.' });
      // dbt's names find the source and its table in the catalog too.
      expect(await catalog.source('source:raw_crm')).toMatchObject({
        name: 'crm',
        description: 'Our CRM, as dbt named it.',
      });
      expect((await catalog.table('source:raw_crm.clients')).name).toBe('crm.customers');
      const tested = await testModels({ config, selectors: ['source:raw_crm.clients'] });
      expect(tested.tests.map((t) => `${t.model} ${t.name} ${t.status}`)).toEqual([
        'crm.customers unique(account_id) pass',
      ]);
      // inlet.yaml's names, which the catalog and the errors say, pick them too.
      for (const selector of ['source:crm', 'source:crm.customers'])
        expect((await testModels({ config, selectors: [selector] })).tests.map((t) => t.name)).toEqual([
          'unique(account_id)',
        ]);
      await expect(testModels({ config, selectors: ['source:raw_crm.customers'] })).rejects.toThrow(
        /\(described: raw_crm\.clients \(or crm\.customers\)\)/,
      );
      // One table declared under both its names would have two descriptions: refused, naming both.
      project(
        'models/_crm.yml',
        'version: 2\nsources:\n  - name: crm\n    tables:\n      - name: customers\n',
      );
      try {
        expect(() => openProject(config)).toThrow(
          /\(source table (?:raw_)?crm\.(?:clients|customers)\): is crm\.customers in the lake \(by its source's schema: or its identifier:\), which .*\(source table (?:raw_)?crm\.(?:clients|customers)\) declares too; give each table once/,
        );
      } finally {
        rmSync(join(config.project_dir, 'models/_crm.yml'));
      }
      // An identifier: the source does not copy either is refused, naming the tables it does.
      project('models/_sources.yml', yaml.replace('identifier: customers', 'identifier: cust'));
      expect(() => openProject(config)).toThrow(
        /\(source table raw_crm\.clients\): source crm has no table clients in a new \.\/inlet\.yaml \(its tables are customers\)/,
      );
    } finally {
      rmSync(join(config.project_dir, 'models/clients.sql'));
      project('models/_sources.yml', SOURCES_YAML);
    }
  });

  it('refuses a source or a table the configuration file does not configure, naming it and the configured ones', () => {
    // Read from prod.yaml, the messages said to add the source to inlet.yaml's sources:.
    const prod = { ...config, configPath: join(temp.dir, 'prod.yaml') };
    project('models/_sources.yml', SOURCES_YAML.replace('- name: crm', '- name: erp'));
    expect(() => openProject(prod)).toThrow(
      /_sources\.yml \(source erp\): erp is not a source in prod\.yaml \(its sources are crm, left\); correct the name, or add the source to prod\.yaml's sources:/,
    );
    project(
      'models/_sources.yml',
      SOURCES_YAML.replace('- name: crm', '- name: raw_crm').replace('schema: public', 'schema: erp'),
    );
    expect(() => openProject(prod)).toThrow(
      /\(source raw_crm\): raw_crm is not a source in prod\.yaml \(its sources are crm, left\)/,
    );
    project('models/_sources.yml', SOURCES_YAML.replace('- name: customers', '- name: clients'));
    expect(() => openProject(prod)).toThrow(
      /\(source table crm\.clients\): source crm has no table clients in prod\.yaml \(its tables are customers\)/,
    );
    project(
      'models/_sources.yml',
      SOURCES_YAML.replace('schema: public', 'freshness: { warn_after: { count: 1 } }'),
    );
    expect(() => openProject(prod)).toThrow(/freshness: is dbt's, and inlet checks no freshness/);
    project('models/_sources.yml', SOURCES_YAML);
    project('models/bad.sql', "SELECT * FROM {{ source('crm', 'orders') }}");
    try {
      expect(() => openProject(prod)).toThrow(
        /bad\.sql: source\('crm', 'orders'\): source crm has no table orders in prod\.yaml/,
      );
    } finally {
      rmSync(join(config.project_dir, 'models/bad.sql'));
    }
  });

  it("names the configuration file read where it says what takes the place of dbt's config:, external: and a source's name:", () => {
    // Read from prod.yaml, the advice sent the user to inlet.yaml's sources:.
    const prod = { ...config, configPath: join(temp.dir, 'prod.yaml') };
    try {
      project('models/_sources.yml', SOURCES_YAML.replace('loader: inlet', 'config: { enabled: true }'));
      expect(() => openProject(prod)).toThrow(
        "_sources.yml: sources[0] (crm): config: is dbt's, and a source has no configuration in inlet; its tables are configured in prod.yaml's sources:; remove it.",
      );
      project(
        'models/_sources.yml',
        SOURCES_YAML.replace(
          '      - name: customers\n',
          '      - name: customers\n        external: { location: s3://bucket/customers.csv }\n',
        ),
      );
      expect(() => openProject(prod)).toThrow(
        "_sources.yml: sources[0].tables[0] (customers): external: is dbt's, and a source's files are configured in prod.yaml's sources: (type: csv); remove it.",
      );
      project('models/_sources.yml', 'version: 2\nsources:\n  - tables: [customers]\n');
      expect(() => openProject(prod)).toThrow(
        '_sources.yml: sources[0]: has no name:; each entry is { name: <a source of prod.yaml>, tables: [{ name: …, description: … }] }',
      );
    } finally {
      project('models/_sources.yml', SOURCES_YAML);
    }
  });
});
