import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers.ts';
import { writeProjectFile } from '../../test/lake-fixtures.ts';
import { buildGraph, loadProject, selectNodes } from './index.ts';
import { publishedValues, renderTemplate } from './model-template.ts';

const temp = tempDir();
afterAll(() => temp.cleanup());
let n = 0;

/** A project of models whose SQL is just their refs. */
function project(models: Record<string, string[]>, extra: Record<string, string | Uint8Array> = {}) {
  const dir = join(temp.dir, `p${n++}`);
  for (const [name, refs] of Object.entries(models))
    writeProjectFile(
      dir,
      `models/${name}.sql`,
      refs.length === 0
        ? 'SELECT 1 AS x'
        : `SELECT * FROM ${refs.map((r) => `{{ ref('${r}') }}`).join(', ')}`,
    );
  for (const [path, text] of Object.entries(extra)) writeProjectFile(dir, path, text);
  return loadProject({ projectDir: dir, builtin: false });
}

describe('model graph', () => {
  const graph = buildGraph(project({ a: [], b: ['a'], c: ['b'], d: ['a'], e: [], f: ['c', 'e'] }).nodes);

  it('orders models so every ref is built first', () => {
    expect(graph.order).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  });

  it('selects a model, +model with upstream, model+ with downstream, and unions several', () => {
    expect(selectNodes(graph, ['c'])).toEqual(['c']);
    expect(selectNodes(graph, ['+c'])).toEqual(['a', 'b', 'c']);
    expect(selectNodes(graph, ['b+'])).toEqual(['b', 'c', 'f']);
    expect(selectNodes(graph, ['+f'])).toEqual(['a', 'b', 'c', 'e', 'f']);
    expect(selectNodes(graph, ['d', 'e+'])).toEqual(['d', 'e', 'f']);
    expect(selectNodes(graph, [])).toEqual(graph.order);
  });

  it("takes dbt's depth-limited 2+name and name+1, and @name; names its selector methods as not inlet's", () => {
    // a → b → c → f ← e, a → d
    expect(selectNodes(graph, ['1+c'])).toEqual(['b', 'c']);
    expect(selectNodes(graph, ['2+f'])).toEqual(['b', 'c', 'e', 'f']);
    expect(selectNodes(graph, ['a+1'])).toEqual(['a', 'b', 'd']);
    expect(selectNodes(graph, ['0+c+1'])).toEqual(['c', 'f']);
    expect(selectNodes(graph, ['@c'])).toEqual(['a', 'b', 'c', 'e', 'f']);
    expect(selectNodes(graph, ['@e'])).toEqual(['a', 'b', 'c', 'e', 'f']);
    // source:crm+ selects what reads a source inlet.yaml configures (dbt-sources.test.ts); here there is none.
    expect(() => selectNodes(graph, ['source:crm+'])).toThrow(
      /"source:crm\+" names no source to select from: crm is not a source: none is configured; add it under sources: in a new \.\/inlet\.yaml/,
    );
    expect(() => selectNodes(graph, ['tag:nightly'])).toThrow(
      /"tag:nightly" is dbt's tag: selector method, which inlet does not have; name the models/,
    );
    // With graph operators before it too, not "No model or seed matches".
    for (const [selector, method] of [
      ['+tag:nightly', 'tag'],
      ['1+config.materialized:view', 'config.materialized'],
      ['@resource_type:model', 'resource_type'],
      ['2+state:modified+', 'state'],
    ])
      expect(() => selectNodes(graph, [selector])).toThrow(
        `"${selector}" is dbt's ${method}: selector method, which inlet does not have`,
      );
  });

  it("takes dbt's wildcards in a name or path (*, staging.*, *stg_*), matched as dbt's fqn method does", () => {
    const read = project(
      { top: [] },
      {
        'dbt_project.yml': 'name: shop\n',
        'models/staging/stg_a.sql': 'SELECT 1 AS x',
        'models/staging/stg_b.sql': "SELECT * FROM {{ ref('stg_a') }}",
        'models/marts/finance/revenue.sql': "SELECT * FROM {{ ref('stg_b') }}",
      },
    );
    const paths = buildGraph(read.nodes, read.disabled, read.name);
    expect(selectNodes(paths, ['*'])).toEqual(paths.order);
    expect(selectNodes(paths, ['staging.*'])).toEqual(['stg_a', 'stg_b']);
    expect(selectNodes(paths, ['staging.stg_?'])).toEqual(['stg_a', 'stg_b']);
    expect(selectNodes(paths, ['staging.stg_[!a]+'])).toEqual(['stg_b', 'revenue']);
    expect(selectNodes(paths, ['*stg_*'])).toEqual(['stg_a', 'stg_b']);
    expect(selectNodes(paths, ['marts.*'])).toEqual(['revenue']);
    expect(selectNodes(paths, ['shop.marts.fin*'])).toEqual(['revenue']);
    expect(selectNodes(paths, ['t*'])).toEqual(['top']);
    expect(selectNodes(paths, ['*'], ['staging.*'])).toEqual(['revenue', 'top']);
    // As in dbt, a wildcard matches from the top: stg_* is no model in staging/, and says where they are.
    expect(() => selectNodes(paths, ['stg_*'])).toThrow(
      /No model or seed matches "stg_\*": as in dbt, a wildcard matches a model's path from the top, its folders then its name \(staging\.stg_a, staging\.stg_b: \*stg_\* matches them in any folder\)/,
    );
    expect(() => selectNodes(paths, ['x*'])).toThrow(/No model or seed matches "x\*": as in dbt/);
  });

  it("takes dbt's path: and file: methods, and a path or a file name without them, as dbt does", () => {
    const read = project(
      { top: [] },
      {
        'models/staging/stg_a.sql': 'SELECT 1 AS x',
        'models/staging/stg_b.sql': "SELECT * FROM {{ ref('stg_a') }}",
        'models/marts/finance/revenue.sql': "SELECT * FROM {{ ref('stg_b') }}",
      },
    );
    const files = buildGraph(read.nodes, read.disabled, read.name, undefined, read.dir);
    expect(selectNodes(files, ['path:models/staging'])).toEqual(['stg_a', 'stg_b']);
    expect(selectNodes(files, ['models/staging/'])).toEqual(['stg_a', 'stg_b']);
    expect(selectNodes(files, ['models/marts/finance/revenue.sql'])).toEqual(['revenue']);
    expect(selectNodes(files, ['path:models/mar*'])).toEqual(['revenue']);
    expect(selectNodes(files, ['+path:models/marts'])).toEqual(['stg_a', 'stg_b', 'revenue']);
    // dbt's Path.glob: * stays within one step of the path, ** alone is any number of folders, none too.
    expect(selectNodes(files, ['path:models/*/stg_?.sql'])).toEqual(['stg_a', 'stg_b']);
    expect(selectNodes(files, ['path:models/**/revenue.sql'])).toEqual(['revenue']);
    expect(selectNodes(files, ['path:models/**/top.sql'])).toEqual(['top']);
    expect(selectNodes(files, ['path:models/**'])).toEqual(['stg_a', 'stg_b', 'revenue', 'top']);
    expect(() => selectNodes(files, ['path:models/*revenue*'])).toThrow(/is the path of no model or seed/);
    expect(selectNodes(files, ['path:models/*.sql'])).toEqual(['top']);
    expect(selectNodes(files, ['models/staging+1'])).toEqual(['stg_a', 'stg_b', 'revenue']);
    expect(selectNodes(files, ['file:revenue.sql', 'stg_a.sql'])).toEqual(['stg_a', 'revenue']);
    expect(selectNodes(files, ['file:stg_b'])).toEqual(['stg_b']);
    expect(selectNodes(files, ['*'], ['models/staging'])).toEqual(['revenue', 'top']);
    expect(() => selectNodes(files, ['models/stagin'])).toThrow(
      /"models\/stagin" is the path of no model or seed: dbt's path: is relative to the project folder \(its models and seeds are in models, models\/marts\/finance, models\/staging\)/,
    );
    expect(() => selectNodes(files, ['file:orders.sql'])).toThrow(
      /"file:orders\.sql" names no model's or seed's file: dbt's file: is a file's name/,
    );
  });

  it("takes dbt's intersection a,b: the nodes every part picks, in a selection or an exclusion", () => {
    // a → b → c → f ← e, a → d
    expect(selectNodes(graph, ['+f,b+'])).toEqual(['b', 'c', 'f']);
    expect(selectNodes(graph, ['a+,+f,e+'])).toEqual(['f']);
    expect(selectNodes(graph, ['c,d'])).toEqual([]);
    expect(selectNodes(graph, ['c+,e', 'd'])).toEqual(['d']);
    expect(selectNodes(graph, [], ['a+,+c'])).toEqual(['d', 'e', 'f']);
    expect(() => selectNodes(graph, ['c,'])).toThrow(
      /"c," has an empty part; dbt's intersection a,b names a selector/,
    );
    expect(() => selectNodes(graph, ['c,tag:nightly'])).toThrow(
      /"tag:nightly" is dbt's tag: selector method/,
    );
    expect(() => selectNodes(graph, ['c,cc'])).toThrow(/No model or seed matches "cc"; did you mean c\?/);
  });

  it("leaves out what dbt's --exclude selects, from the selection or from everything", () => {
    expect(selectNodes(graph, ['+f'], ['b+'])).toEqual(['a', 'e']);
    expect(selectNodes(graph, [], ['a', 'd'])).toEqual(graph.order.filter((n) => n !== 'a' && n !== 'd'));
    expect(() => selectNodes(graph, [], ['cc'])).toThrow(/No model or seed matches "cc"; did you mean c\?/);
  });

  it('suggests the model a selector with a typo meant, as a ref() with one does', () => {
    const named = buildGraph(project({ customer_totals: [], orders: [], order_items: ['orders'] }).nodes);
    expect(() => selectNodes(named, ['cusomer_totals+'])).toThrow(
      /No model or seed matches "cusomer_totals\+"; did you mean customer_totals\?/,
    );
    expect(() => selectNodes(named, [], ['Ordrs'])).toThrow(/did you mean orders\?/);
    // With none close, the project's names when they are few, which the message left to be looked up.
    expect(() => selectNodes(named, ['xyz'])).toThrow(
      /No model or seed matches "xyz"; the project's models and seeds are customer_totals, order_items, orders\. Selectors are/,
    );
    const many = buildGraph(project(Object.fromEntries([...'abcdefghijk'].map((c) => [`m_${c}`, []]))).nodes);
    expect(() => selectNodes(many, ['xyz'])).toThrow(
      /No model or seed matches "xyz"; inlet ls lists the project's 11 models and seeds\. Selectors are/,
    );
    expect(() => selectNodes(buildGraph(project({}).nodes), ['xyz'])).toThrow(
      /No model or seed matches "xyz"; the project has no model or seed\. Selectors are/,
    );
  });

  it('selects the models of a folder by its name, as dbt does (staging, marts.finance), with graph operators', () => {
    const foldered = buildGraph(
      project(
        {},
        {
          'models/staging/stg_orders.sql': 'SELECT 1 AS x',
          'models/staging/stg_users.sql': 'SELECT 1 AS x',
          'models/marts/finance/revenue.sql': "SELECT * FROM {{ ref('stg_orders') }}",
          'models/marts/people.sql': "SELECT * FROM {{ ref('stg_users') }}",
          'models/report.sql': "SELECT * FROM {{ ref('revenue') }}",
          'seeds/lookups/codes.csv': 'code\n1\n',
        },
      ).nodes,
    );
    expect(selectNodes(foldered, ['staging'])).toEqual(['stg_orders', 'stg_users']);
    expect(selectNodes(foldered, ['marts'])).toEqual(['revenue', 'people']);
    expect(selectNodes(foldered, ['marts.finance+'])).toEqual(['revenue', 'report']);
    expect(selectNodes(foldered, ['+marts.finance'])).toEqual(['stg_orders', 'revenue']);
    expect(selectNodes(foldered, ['lookups'])).toEqual(['codes']);
    expect(selectNodes(foldered, [], ['staging+'])).toEqual(['codes']);
    expect(() => selectNodes(foldered, ['finance'])).toThrow(/No model or seed matches "finance"/);
  });

  it('names a selector that matches nothing, with close names', () => {
    expect(() => selectNodes(graph, ['cc'])).toThrow(/No model or seed matches "cc"; did you mean c\?/);
  });

  it('reports a cycle with the models in it', () => {
    const cyclic = project({ start: [], x: ['start', 'z'], y: ['x'], z: ['y'], after: ['z'] });
    expect(() => buildGraph(cyclic.nodes)).toThrow(
      expect.objectContaining({
        code: 'MODEL_CYCLE',
        message: expect.stringMatching(/x → y → z → x|y → z → x → y|z → x → y → z/),
      }),
    );
  });

  it('orders a model after what its tests read, unless that makes a cycle: then refs alone decide', () => {
    const tested = project(
      { a_orders: [], m_accounts: ['z_customers'], z_customers: [] },
      {
        'models/a_orders.yaml':
          'columns:\n  customer_id:\n    tests: [{ relationships: { to: z_customers, field: id } }, { relationships: { to: crm.customers, field: id } }]\n',
        // z_customers's test reads m_accounts, which refs z_customers: a cycle only through a test.
        'models/z_customers.yaml':
          'columns:\n  id:\n    tests: [{ relationships: { to: m_accounts, field: id } }]\n',
      },
    );
    expect(buildGraph(tested.nodes).order).toEqual(['z_customers', 'a_orders', 'm_accounts']);
  });

  it("says a model that refs itself should read {{ this }}, as dbt's own-table reference", () => {
    const itself = project({ base: [], grows: ['base', 'grows'] });
    expect(() => buildGraph(itself.nodes)).toThrow(
      expect.objectContaining({
        code: 'MODEL_CYCLE',
        message: `grows refers to itself with ref('grows'); to read what it built before, use {{ this }} inside {% if is_incremental %}…{% endif %}.`,
      }),
    );
  });

  it('says what a column, a test or a key may be when the YAML gives something else, not "Invalid input"', () => {
    const fails = (yaml: string) => () =>
      project({}, { 'models/m.sql': 'SELECT 1 AS x', 'models/m.yaml': yaml });
    const cases: Array<[string, string]> = [
      [
        'columns:\n  x: { tests: [not_nul] }\n',
        'columns.x.tests.0: is not a column test (did you mean not_null?); use not_null, unique, { accepted_values: { values: [...] } } or { relationships: { to: <model or table>, field: <column> } }',
      ],
      [
        'columns:\n  x: { tests: [{ accepted_value: { values: [a] } }] }\n',
        'columns.x.tests.0: is not a column test (did you mean accepted_values?); use not_null, unique, { accepted_values: { values: [...] } } or { relationships: { to: <model or table>, field: <column> } }',
      ],
      [
        'columns:\n  x: { tests: [freshness] }\n',
        'columns.x.tests.0: is not a column test; use not_null, unique, { accepted_values: { values: [...] } } or { relationships: { to: <model or table>, field: <column> } }',
      ],
      [
        'columns:\n  x: { tests: [{ relationships: { to: y } }] }\n',
        'columns.x.tests.0.relationships.field: is required; add field: with text',
      ],
      ['skip_when_missing: events\n', 'skip_when_missing: must be a list, not the text "events"'],
      ['materialized: incremental\nlookback_days: 400\n', 'lookback_days: must be at most 366, not 400'],
      [
        'columns:\n  x: { tests: [{ accepted_values: { values: [] } }] }\n',
        'columns.x.tests.0.accepted_values.values: must list at least one',
      ],
      [
        'columns:\n  x: { tests: [{ not_null: { config: { severity: warn } } }] }\n',
        "columns.x.tests.0: is not_null with arguments, as dbt writes a test's config: (severity, where); inlet's not_null takes none (a failing test always keeps the model from being published): write just not_null",
      ],
      [
        // Two mistakes in one column: each named, not "is not a column entry".
        'columns:\n  x: { data_type: int, tests: [not_nul] }\n',
        'columns.x.tests.0: is not a column test (did you mean not_null?); use not_null, unique, { accepted_values: { values: [...] } } or { relationships: { to: <model or table>, field: <column> } }\n  columns.x: Unrecognized key: "data_type"',
      ],
      [
        // An entry left empty (x: alone) is a column not yet described, taken.
        'columns:\n  x: [The x.]\n',
        'columns.x: is not a column entry; give its description as text, or { description: …, tests: [...] }',
      ],
      [
        'columns:\n  - description: The x.\n',
        'columns.0: has no name:; in a list, each column is { name: <column>, description: …, tests: [...] }',
      ],
      ['columns:\n  - name: x\n  - name: x\n', 'columns.1: names x a second time; give each column once'],
      // One column to DuckDB, in any case: one entry's description and tests were dropped without a word.
      [
        'columns:\n  ID: The id.\n  id: { tests: [not_null] }\n',
        "columns: names ID and id, one column to DuckDB, which reads a column's name in any case; give each column once",
      ],
      [
        'columns:\n  - name: id\n  - name: ID\n',
        "columns.1: names ID, as columns.0 names id: one column to DuckDB, which reads a column's name in any case; give each column once",
      ],
      // Results are shown by the test's name: "dup found 1 row" did not say which of the two.
      [
        'tests:\n  - { name: dup, sql: "SELECT 1 WHERE false" }\n  - { name: dup, sql: "SELECT 1" }\n',
        "tests.1.name: is dup, as tests.0's is; give each test a name of its own, which inlet run and inlet test show its result by",
      ],
      [
        'tests:\n  - { name: sql_2, sql: "SELECT 1 WHERE false" }\n  - sql: "SELECT 1"\n',
        'tests.1: gives no name:, so it is named sql_2, as tests.0 is; give each test a name of its own, which inlet run and inlet test show its result by',
      ],
      [
        'tests:\n  - unique: x\n',
        'tests.0.unique: must be a list of columns, e.g. [a, b]; one column is tested under columns:',
      ],
      [
        'tests:\n  - not_null: x\n',
        'tests.0: is not a model test; use { unique: [<column>, …] } or { sql: "SELECT … FROM {{ this }} WHERE …", name: <name> }',
      ],
      ['materialized: incremental\nunique_key: 3\n', 'unique_key: must be a column name or a list of them'],
      // Taken, it merged by fewer columns than it seemed to.
      [
        'materialized: incremental\nunique_key: [id, day, ID]\n',
        'unique_key: names the column "ID" twice (id, day, ID); name each column of the key once',
      ],
      [
        'tests:\n  - { name: no such test, sql: "SELECT 1" }\n',
        'tests.0.name: must be a test name of letters, digits and _',
      ],
    ];
    cases.push(
      [
        'columns:\n  x: { tests: [dbt_utils.not_empty_string] }\n',
        'columns.x.tests.0: is dbt_utils.not_empty_string, a test from a dbt package; inlet has no packages: write the check as a sql: test under the model\'s tests: ({ sql: "SELECT … FROM {{ this }} WHERE …", name: … })',
      ],
      [
        'tests:\n  - dbt_utils.unique_combination_of_columns: { combination_of_columns: [x, y] }\n',
        "tests.0: is dbt_utils's unique_combination_of_columns; inlet's is { unique: [<column>, …] }",
      ],
      [
        'tests:\n  - dbt_expectations.expect_table_row_count_to_be_between: { min_value: 1 }\n',
        'tests.0: is dbt_expectations.expect_table_row_count_to_be_between, a test from a dbt package; inlet has no packages: write the check as { sql: "SELECT … FROM {{ this }} WHERE …", name: <name> }',
      ],
      [
        'materialized: ephemeral\n',
        "materialized: is dbt's ephemeral, which inlet does not have; use view: nothing is stored, and the query runs when the model is read",
      ],
      ['materialized: tabel\n', 'materialized: must be view, table or incremental'],
      [
        'materialized: table\nunique_key: id\n',
        'unique_key: is for incremental models, and this one is materialized: table; set materialized: incremental to merge by it, or remove it',
      ],
      [
        'materialized: incremental\nunique_key: id\nlookback_days: 3\n',
        'lookback_days: is for incremental models by dt, and this one merges by unique_key; remove it',
      ],
      [
        'lookback_days: 3\n',
        'lookback_days: is for incremental models by dt, and this one is materialized: table; remove it',
      ],
    );
    for (const [yaml, message] of cases)
      expect(fails(yaml), yaml).toThrow(`m.yaml is not a valid model configuration:\n  ${message}`);
  });

  it("takes dbt's {% if is_incremental() %} and source(), and says where dbt's config() goes", () => {
    const dbt = project(
      {},
      {
        'models/grows.sql':
          '/*---\nmaterialized: incremental\nunique_key: id\n---*/\nSELECT 1 AS id {% if is_incremental() %}WHERE 1 > (SELECT max(id) FROM {{ this }}){% else %}{% endif %}',
      },
    );
    expect(dbt.nodes.has('grows')).toBe(true);
    const sql = 'SELECT 1 {%- if not is_incremental() -%} AS whole {%- else -%} AS added {%- endif -%}';
    const values = { ...publishedValues('UTC', '"m"'), incremental: true };
    expect(renderTemplate(sql, values)).toBe('SELECT 1  AS added ');
    expect(renderTemplate(sql, { ...values, incremental: false })).toBe('SELECT 1  AS whole ');
    const fails = (sql: string) => () => project({}, { 'models/m.sql': sql });
    expect(fails("{{ config(materialized=other('m')) }}\nSELECT 1")).toThrow(
      /m\.sql line 1: config\(materialized=other\('m'\)\) has a value that is not a literal at "other\('m'\)"; config\(\) takes name='value' pairs/,
    );
    expect(renderTemplate('SELECT * FROM {{ source(\'left\', "sides") }}', values)).toBe(
      'SELECT * FROM "left"."sides"',
    );
    expect(fails("SELECT * FROM {{ source('customers') }}")).toThrow(
      "m.sql line 1: {{ source('customers') }} is not a template tag inlet knows; source() takes a source's name and its table's, each in quotes: {{ source('crm', 'customers') }}.",
    );
  });

  it("reads dbt's {{ config(…) }} as the model's configuration, with what its properties file adds", () => {
    const dbt = project(
      { customers: [] },
      {
        'models/orders.sql':
          "{{\n  config(\n    materialized = 'incremental',\n    unique_key = [\"id\", 'kind'],\n    skip_when_missing = [],\n  )\n}}\nSELECT 1 AS id, 'a' AS kind",
        'models/schema.yml':
          'version: 2\nmodels:\n  - name: orders\n    description: Orders.\n    columns:\n      - name: id\n        tests: [not_null]\n',
        'models/plain.sql': "{{ config(materialized='view') }}\nSELECT * FROM {{ ref('customers') }}",
      },
    );
    expect(dbt.nodes.get('orders')?.config).toMatchObject({
      materialized: 'incremental',
      unique_key: ['id', 'kind'],
      description: 'Orders.',
      columns: { id: { tests: ['not_null'] } },
    });
    expect(dbt.nodes.get('plain')).toMatchObject({ config: { materialized: 'view' }, refs: ['customers'] });
    // The SQL keeps its lines, so an error's line number is still the file's.
    expect(dbt.nodes.get('orders')?.sql.split('\n')[7]).toBe("SELECT 1 AS id, 'a' AS kind");
  });

  it("says a test under tests/ takes no config(), rather than where a model's configuration goes", () => {
    expect(() =>
      project(
        { m: [] },
        { 'tests/neg.sql': "-- none\n{{ config(severity='warn') }}\nSELECT * FROM {{ ref('m') }}" },
      ),
    ).toThrow(
      /neg\.sql line 2: \{\{ config\(severity='warn'\) \}\} configures a dbt test, and a test under tests\/ takes no configuration: any row it returns fails it \(inlet has no severity: warn\)\. Remove the config\(\) call\./,
    );
  });

  it("names the .sql, not the properties file beside it, for what is wrong in a model's config()", () => {
    const p = (sql: string) => () =>
      project(
        {},
        {
          'models/m.sql': sql,
          'models/schema.yml': 'version: 2\nmodels:\n  - name: m\n    description: M.\n',
        },
      );
    expect(p("{{ config(materialized='table', tags=['finance']) }}\nSELECT 1")).toThrow(
      /m\.sql's config\(\) is not a valid model configuration:\n {2}\(top level\): Unrecognized key: "tags" \(dbt's tags: inlet selects models by name/,
    );
    expect(p("{{ config(materialized='ephemeral') }}\nSELECT 1")).toThrow(
      /m\.sql's config\(\) is not a valid model configuration:\n {2}materialized: is dbt's ephemeral/,
    );
  });

  it("refuses a dbt config() that says what the YAML says too, or that DuckDB's model cannot take", () => {
    const fails = (files: Record<string, string>) => () => project({}, files);
    expect(
      fails({
        'models/m.sql': "{{ config(materialized='view') }}\nSELECT 1",
        'models/m.yaml': 'materialized: table\n',
      }),
    ).toThrow(/m\.sql gives materialized in its config\(\) and in .*m\.yaml; keep one of them\./);
    expect(fails({ 'models/m.sql': "{{ config(partition_by={'field': 'dt'}) }}\nSELECT 1" })).toThrow(
      /Unrecognized key: "partition_by" \(dbt's partition_by: an incremental model without unique_key is partitioned by the dt DATE column it outputs; remove it\)/,
    );
    // A dict that is not all literals is refused still.
    for (const [args, why] of [
      ['docs={show: false}', `has a dict whose key is not a quoted string followed by : at "show: false}"`],
      ["docs={'show': other()}", `has a value that is not a literal at "other()}"`],
      ["docs={'show': false", 'has a dict that is not closed with }'],
      ["docs={'show' false}", `has a dict whose key is not a quoted string followed by : at "'show' false}"`],
    ])
      expect(fails({ 'models/m.sql': `{{ config(${args}) }}\nSELECT 1` }), args).toThrow(
        `config(${args}) ${why}`,
      );
    // A key misspelt was named with nothing to say which was meant: materialised read as a key dbt has not.
    expect(fails({ 'models/m.sql': '/*---\nmaterialised: view\n---*/\nSELECT 1' })).toThrow(
      /\(top level\): Unrecognized key: "materialised" \(did you mean materialized\?\)$/,
    );
    // dbt's config: block, which a properties file takes, in the model's own .yaml: "Unrecognized key" alone.
    expect(
      fails({ 'models/m.sql': 'SELECT 1 AS x', 'models/m.yaml': 'config:\n  materialized: table\n' }),
    ).toThrow(
      /\(top level\): Unrecognized key: "config" \(a properties file's models: entry gives a model's settings under config:, as dbt's do; this file is the model's own configuration, whose keys stand at its top: write materialized: table and the rest without config:\)$/,
    );
    expect(
      fails({ 'models/m.sql': '/*---\ncolumns:\n  x: { descripton: X. }\n---*/\nSELECT 1 AS x' }),
    ).toThrow(/columns\.x: Unrecognized key: "descripton" \(did you mean description\?\)$/);
    expect(fails({ 'models/m.sql': "{{ config(incremental_strategy='merge') }}\nSELECT 1" })).toThrow(
      /Unrecognized key: "incremental_strategy" \(dbt's incremental_strategy: an incremental model merges by unique_key/,
    );
    expect(
      fails({ 'models/m.sql': '/*---\ncolumns:\n  x: { meta: { pii: true } }\n---*/\nSELECT 1 AS x' }),
    ).toThrow(
      /columns\.x: Unrecognized key: "meta" \(dbt's meta: inlet has no meta, since nothing would read it; give a model's owner as its owner:, and other notes in a description; remove it\)/,
    );
    // dbt's hooks and full_refresh: false say what to do instead, as the other dbt keys do.
    expect(
      fails({ 'models/m.sql': "{{ config(post_hook='grant select on {{ this }}') }}\nSELECT 1" }),
    ).toThrow(
      /Unrecognized key: "post_hook" \(dbt's post_hook: inlet runs no hooks; make the work a model, or a test under tests\/; remove it\)/,
    );
    expect(
      fails({ 'models/m.sql': '/*---\npre_hook: [analyze]\nfull_refresh: false\n---*/\nSELECT 1' }),
    ).toThrow(
      /Unrecognized keys: "pre_hook", "full_refresh" \(dbt's pre_hook: inlet runs no hooks; .*; full_refresh: a model is rebuilt whole only by inlet run --full-refresh; leave it out of such a run with --exclude; remove it\)/,
    );
  });

  it("drops dbt's {# comments #}, refs in them included, and reads {{- ref('x') -}} as {{ ref('x') }}", () => {
    const dbt = project(
      { orders: [] },
      {
        'models/m.sql':
          "{# Orders per status.\n   Was {{ ref('old') }}; {{ config(materialized='view') }} #}\nSELECT * FROM {{- ref('orders') -}} {# {% if x %} #}",
      },
    );
    expect(dbt.nodes.get('m')?.refs).toEqual(['orders']);
    const lines = project({ orders: [] }, { 'models/n.sql': "SELECT * FROM {{ ref(\n  'orders'\n) }}" });
    expect(lines.nodes.get('n')?.refs).toEqual(['orders']);
    const fails = (sql: string) => () => project({}, { 'models/m.sql': sql });
    expect(fails('SELECT 1\n{# never closed\nFROM t')).toThrow(
      'm.sql line 2: {# starts a comment that no #} ends; close it, or write the text as a SQL comment (-- …).',
    );
    // A tag left open was DuckDB's syntax error at "{"; one in a SQL string or comment is still text.
    expect(fails("SELECT {{ ref('orders') }}.n,\n  {{ from_dt AS d")).toThrow(
      'm.sql line 2: {{ starts a tag that no }} ends; close it.',
    );
    expect(fails('SELECT 1 AS n\n{% if is_incremental()\nWHERE true')).toThrow(
      'm.sql line 2: {% starts a tag that no %} ends; close it.',
    );
    expect(project({}, { 'models/m.sql': "SELECT '{{' AS a -- {%\n" }).nodes.has('m')).toBe(true);
    // An {% if is_incremental() %} with no {% endif %} was "not a template tag inlet knows".
    expect(fails('SELECT 1 AS n\n{% if is_incremental() %} WHERE true')).toThrow(
      'm.sql line 2: {% if is_incremental() %} has no {% endif %} after it; end the block with {% endif %} ({% if is_incremental() %}…{% else %}…{% endif %}).',
    );
  });

  it("reads dbt's properties files (schema.yml, _models.yml): each model's and seed's entry is its configuration", () => {
    const schema = `version: 2
models:
  - name: orders
    description: One row per order.
    config: { materialized: incremental, unique_key: id }
    columns:
      - name: id
        data_tests: [unique, not_null]
      - name: status
        tests: [{ accepted_values: { values: [placed, shipped] } }]
`;
    const dbt = project(
      { orders: [], customers: [] },
      {
        'models/marts/_marts__models.yml': schema,
        'models/marts/more.yml': 'version: 2\nmodels:\n  - name: customers\n    description: Who buys.\n',
        'seeds/plans.csv': 'plan,price\nfree,0\n',
        'seeds/properties.yml':
          'version: 2\nseeds:\n  - name: plans\n    config: { column_types: { price: integer } }\n',
      },
    );
    expect(dbt.nodes.get('orders')?.config).toMatchObject({
      materialized: 'incremental',
      unique_key: 'id',
      description: 'One row per order.',
      columns: { id: { tests: ['unique', 'not_null'] }, status: { tests: [{ accepted_values: {} }] } },
    });
    expect(dbt.nodes.get('customers')?.config.description).toBe('Who buys.');
    expect(dbt.nodes.get('plans')?.config.column_types).toEqual({ price: 'integer' });
    const fails = (files: Record<string, string>) => () => project({ orders: [] }, files);
    expect(fails({ 'snapshots/customers_snapshot.sql': '{% snapshot customers_snapshot %}…' })).toThrow(
      /customers_snapshot\.sql: inlet has no snapshots, so it would never run\. To keep a copy a day, make a model incremental by unique_key: \[snapshot_dt, id\]/,
    );
    expect(fails({ 'models/schema.yml': 'version: 2\nsources:\n  - tables: [customers]\n' })).toThrow(
      /schema\.yml: sources\[0\]: has no name:; each entry is \{ name: <a source of a new \.\/inlet\.yaml>, tables: /,
    );
    expect(
      fails({
        'models/schema.yml':
          'version: 2\nsources:\n  - { name: crm, tables: [{ name: customers, identifier: 5 }] }\n',
      }),
    ).toThrow(/schema\.yml: sources\[0\]\.tables\[0\] \(customers\): identifier: must be a table's name/);
    expect(fails({ 'models/schema.yml': 'version: 2\nmodels:\n  - name: order\n' })).toThrow(
      /schema\.yml \(model order\): there is no such model \(no \.sql file under models\/ by that name\)/,
    );
    expect(fails({ 'models/schema.yml': schema, 'models/orders.yaml': 'description: x\n' })).toThrow(
      /orders\.sql is configured twice, in its own file and in .*schema\.yml \(model orders\); keep one of them\./,
    );
    expect(fails({ 'models/order.yaml': 'materialized: view\n' })).toThrow(
      /order\.yaml: configures no model: there is no order\.sql or \.csv beside it/,
    );
    expect(
      fails({
        'models/schema.yml':
          'version: 2\nmodels:\n  - name: orders\n    config: { materialized: ephemeral }\n',
      }),
    ).toThrow(/schema\.yml \(model orders\) is not a valid model configuration:\n {2}materialized: /);
    expect(
      fails({
        'models/schema.yml':
          'version: 2\nmodels:\n  - name: orders\n    config: { incremental_strategy: merge }\n    columns:\n      - name: id\n        data_type: integer\n',
      }),
    ).toThrow(
      /columns\.id: Unrecognized key: "data_type" \(dbt's data_type: a column has the type its SELECT gives it; cast there \(x::INTEGER\); remove it\)\n {2}\(top level\): Unrecognized key: "incremental_strategy" \(dbt's incremental_strategy: an incremental model merges by unique_key, or replaces dt partitions without one; remove it\)/,
    );
  });

  it("takes dbt 1.8's data_tests: as tests:, for the model and its columns, and refuses both at once", () => {
    const yaml = (key: string) =>
      `columns:\n  id: { description: The id., ${key}: [not_null, unique] }\n${key}:\n  - unique: [id, name]\n`;
    const config = (key: string) =>
      project({}, { 'models/m.sql': 'SELECT 1 AS id', 'models/m.yaml': yaml(key) }).nodes.get('m')?.config;
    expect(config('data_tests')).toEqual(config('tests'));
    expect(config('data_tests')?.tests).toEqual([{ unique: ['id', 'name'] }]);
    expect(() =>
      project(
        {},
        {
          'models/m.sql': 'SELECT 1 AS id',
          'models/m.yaml': 'columns:\n  id: { tests: [not_null], data_tests: [unique] }\n',
        },
      ),
    ).toThrow(
      /m\.yaml is not a valid model configuration:\n {2}columns\.id: has both tests: and data_tests: \(dbt's newer name for tests:\); put them in one list/,
    );
  });

  it('reads a dbt properties file named after its model (orders.yml beside orders.sql) as a properties file', () => {
    const p = project(
      {},
      {
        'models/orders.sql': 'SELECT 1 AS id',
        'models/orders.yml':
          'version: 2\nmodels:\n  - name: orders\n    description: One row per order.\n    columns:\n      - name: id\n        data_tests: [unique]\n',
        'models/plain.sql': 'SELECT 1 AS x',
        'models/plain.yml': 'description: Its own configuration.\n',
      },
    );
    expect(p.nodes.get('orders')?.config).toMatchObject({
      description: 'One row per order.',
      columns: { id: { tests: ['unique'] } },
    });
    expect(p.nodes.get('orders')?.configFile).toMatch(/orders\.yml \(model orders\)$/);
    expect(p.nodes.get('plain')?.config.description).toBe('Its own configuration.');
  });

  it("takes dbt 1.10's arguments: of a column test as if its keys were beside it", () => {
    const p = project(
      {},
      {
        'models/m.sql': 'SELECT 1 AS plan, 1 AS account',
        'models/schema.yml': [
          'version: 2',
          'models:',
          '  - name: m',
          '    columns:',
          '      - name: plan',
          '        data_tests:',
          '          - accepted_values: { arguments: { values: [1, 2] } }',
          '          - relationships: { arguments: { to: "ref(\'m\')", field: plan } }',
        ].join('\n'),
      },
    );
    expect(p.nodes.get('m')?.config.columns.plan).toEqual({
      tests: [{ accepted_values: { values: [1, 2] } }, { relationships: { to: 'm', field: 'plan' } }],
    });
  });

  it("takes dbt's quote: of accepted_values, which changes nothing: values compare as text, and a number by value", () => {
    const files = (quote: string) => ({
      'models/m.sql': 'SELECT 1 AS plan',
      'models/schema.yml': `version: 2\nmodels:\n  - name: m\n    columns:\n      - name: plan\n        tests:\n          - accepted_values: { values: [1, 2], quote: ${quote} }\n`,
    });
    expect(project({}, files('false')).nodes.get('m')?.config.columns.plan).toEqual({
      tests: [{ accepted_values: { values: [1, 2], quote: false } }],
    });
    expect(() => project({}, files('maybe'))).toThrow(
      /columns\.plan\.tests\.0\.accepted_values\.quote: must be true or false/,
    );
  });

  it("takes dbt's list of columns ({ name, description, tests | data_tests }) as the map it stands for", () => {
    const config = (yaml: string) =>
      project({}, { 'models/m.sql': 'SELECT 1 AS id, 2 AS plan', 'models/m.yaml': yaml }).nodes.get('m')
        ?.config;
    const listed = config(
      'columns:\n  - name: id\n    description: The id.\n    data_tests: [not_null, unique]\n  - name: plan\n    description: The plan.\n  - name: note\n',
    );
    const mapped = config(
      'columns:\n  id: { description: The id., tests: [not_null, unique] }\n  plan: { description: The plan. }\n  note: {}\n',
    );
    expect(listed?.columns).toEqual(mapped?.columns);
    expect(listed?.columns.id).toEqual({ description: 'The id.', tests: ['not_null', 'unique'] });
  });

  it('takes a description: left empty (a template filled in gradually) as no description, as dbt does', () => {
    const own = project(
      {},
      {
        'models/m.sql': 'SELECT 1 AS id, 2 AS plan',
        'models/m.yml': 'description:\ncolumns:\n  id:\n    description:\n    tests: [not_null]\n  plan:\n',
      },
    ).nodes.get('m')?.config;
    expect(own?.description).toBeUndefined();
    expect(own?.columns).toEqual({ id: { tests: ['not_null'] }, plan: { tests: [] } });
    const dbt = project(
      {},
      {
        'models/m.sql': 'SELECT 1 AS id',
        'models/_models.yml': `version: 2
models:
  - name: m
    description:
    columns:
      - name: id
        description:
sources:
  - name: crm
    description:
    tables:
      - name: customers
        description:
        columns:
          - name: id
            description:
`,
      },
    );
    expect(dbt.nodes.get('m')?.config.columns).toEqual({ id: { tests: [] } });
    const crm = dbt.sources.get('crm');
    expect(crm?.description).toBeUndefined();
    expect(crm?.tables.get('customers')?.config).toMatchObject({ columns: { id: { tests: [] } } });
  });

  it("takes dbt's to: ref('model') and to: source('crm', 'customers') in a relationships test", () => {
    const dbt = project(
      { z_customers: [] },
      {
        'models/a_orders.sql': 'SELECT 1 AS customer_id',
        'models/a_orders.yaml':
          "columns:\n  customer_id:\n    tests:\n      - relationships: { to: ref('z_customers'), field: id }\n      - relationships: { to: \"source('crm', 'customers')\", field: id }\n",
      },
    );
    const column = dbt.nodes.get('a_orders')?.config.columns.customer_id;
    expect(typeof column === 'object' && column.tests).toEqual([
      { relationships: { to: 'z_customers', field: 'id' } },
      { relationships: { to: 'crm.customers', field: 'id' } },
    ]);
    // Built after the model its test reads, as with to: z_customers.
    expect(buildGraph(dbt.nodes).order).toEqual(['z_customers', 'a_orders']);
  });

  it('says a ref to a lake or source table is read by name, and suggests a model for a typo', () => {
    const broken = project({ orders: [], a: ['events'], b: ['crm.customers'], c: ['ordrs'], d: ['Orders'] });
    const error = (() => {
      try {
        buildGraph(broken.nodes);
      } catch (caught) {
        return (caught as Error).message;
      }
    })();
    expect(error).toContain(
      "refers to ref('events'), which no model or seed defines; events is a table of the lake, not a model, so read it by its name: FROM events",
    );
    expect(error).toContain(
      "refers to ref('crm.customers'), which no model or seed defines; crm.customers is a source's table, not a model, so read it by its name: FROM crm.customers",
    );
    expect(error).toContain("refers to ref('ordrs'), which no model or seed defines; did you mean orders?");
    expect(error).toContain("refers to ref('Orders'), which no model or seed defines; did you mean orders?");
    // Each line ends as a sentence: a question with no full stop after it, the rest with one.
    expect(error?.split('\n').map((line) => line.slice(-2))).toEqual(['s.', 's.', 's?', 's?']);
  });

  it('never suggests that a model ref itself: a ref to a model since renamed offers none', () => {
    // v refs t, renamed: "did you mean v?" for ref('t'), when v reading itself is a cycle.
    expect(() => buildGraph(project({ v: ['t'] }).nodes)).toThrow(
      /^v \(.*v\.sql\) refers to ref\('t'\), which no model or seed defines; the project has no other model or seed\.$/,
    );
    // With none close, the others are named (never the model itself).
    expect(() => buildGraph(project({ v: ['qqq'], orders: [], customers: [] }).nodes)).toThrow(
      /^v \(.*v\.sql\) refers to ref\('qqq'\), which no model or seed defines; the project's other models and seeds are customers, orders\.$/,
    );
    expect(() => buildGraph(project({ order: ['orders'], orderz: [] }).nodes)).toThrow(
      /refers to ref\('orders'\), which no model or seed defines; did you mean orderz\?$/,
    );
  });

  it('refuses a model or a tests/ file that is not UTF-8, naming its line, rather than build what U+FFFD made of it', () => {
    // Saved as Latin-1 (or Shift_JIS), 'Zürich' was built into the mart as 'Z\uFFFDrich' without a word.
    expect(() =>
      project({}, { 'models/cities.sql': Buffer.from("SELECT 1 AS id,\n'Zürich' AS city", 'latin1') }),
    ).toThrow(
      expect.objectContaining({
        code: 'MODEL_INVALID',
        message: expect.stringMatching(
          /models\/cities\.sql is not UTF-8 text: line 2 holds a byte UTF-8 has not \(.*\); save it as UTF-8\.$/,
        ),
      }),
    );
    expect(() =>
      project({ a: [] }, { 'tests/t.sql': Buffer.from("SELECT 'é' AS x WHERE false", 'latin1') }),
    ).toThrow(/tests\/t\.sql is not UTF-8 text: line 1/);
    expect(() =>
      project({}, { 'models/notepad.sql': Buffer.from('\ufeffSELECT 1 AS x', 'utf16le') }),
    ).toThrow(/models\/notepad\.sql is UTF-16 text/);
    // So are its YAML and Markdown: a var from dbt_project.yml was rendered into the SQL so too.
    const latin1 = (text: string) => Buffer.from(text, 'latin1');
    for (const [path, text] of [
      ['dbt_project.yml', 'vars:\n  city: Zürich\n'],
      ['models/a.yaml', 'description: Zürich\n'],
      ['models/schema.yml', 'version: 2\nmodels:\n  - name: a\n    description: Zürich\n'],
      ['models/docs.md', '{% docs city %}Zürich{% enddocs %}\n'],
    ] as const)
      expect(() => project({ a: [] }, { [path]: latin1(text) }), path).toThrow(
        new RegExp(`${path.replace('.', '\\.')} is not UTF-8 text: line \\d`),
      );
  });

  it('reports every ref to a model that does not exist, with the file', () => {
    const broken = project({ a: ['nothing'], b: ['a', 'ghost'] });
    expect(() => buildGraph(broken.nodes)).toThrow(
      expect.objectContaining({
        code: 'MODEL_REF_MISSING',
        message: expect.stringMatching(
          /a \(.*a\.sql\) refers to ref\('nothing'\)[\s\S]*b \(.*b\.sql\) refers to ref\('ghost'\)/,
        ),
      }),
    );
  });

  it("names the file's own line for a tag below front matter, a var() with no value and a bad config()", () => {
    const front = '/*---\ndescription: Counts.\n---*/\nSELECT 1\n';
    expect(() => project({}, { 'models/m.sql': `${front}, {{ nope }}` })).toThrow(
      /m\.sql line 5: \{\{ nope \}\}/,
    );
    expect(() => project({}, { 'models/m.sql': `${front}, {{ var('x') }}` })).toThrow(
      /m\.sql line 5: \{\{ var\('x'\) \}\} has no value/,
    );
    expect(() => project({}, { 'models/m.sql': `${front}{{ config(unique_key=[) }}` })).toThrow(
      /m\.sql line 5: /,
    );
  });

  it('reads front matter and sibling YAML, and refuses unknown tags and keys', () => {
    const p = project(
      {},
      {
        'models/daily.sql':
          '/*---\nmaterialized: incremental\ndescription: Daily counts\ncolumns:\n  dt: The day\n---*/\nSELECT 1',
        'models/other.sql': 'SELECT 2',
        'models/other.yaml': 'materialized: view\nowner: growth@example.com\n',
        'seeds/features.csv': 'feature\nexport\n',
      },
    );
    expect(p.nodes.get('daily')?.config).toMatchObject({
      materialized: 'incremental',
      description: 'Daily counts',
      columns: { dt: 'The day' },
    });
    expect(p.nodes.get('other')?.config).toMatchObject({ materialized: 'view', owner: 'growth@example.com' });
    // YAML's folded > keeps a final line break, which became a line break inside a CSV cell.
    const folded = project(
      {},
      {
        'models/folded.sql': 'SELECT 1 AS x',
        'models/folded.yaml':
          'description: >\n  Two lines,\n  folded.\ncolumns:\n  x: >\n    One.\n  y: { description: "  Two.\\n" }\n',
      },
    );
    expect(folded.nodes.get('folded')?.config).toMatchObject({
      description: 'Two lines, folded.',
      columns: { x: 'One.', y: { description: 'Two.' } },
    });
    expect(p.nodes.get('features')?.kind).toBe('seed');
    expect(() => project({}, { 'models/bad.sql': 'SELECT {{ var("x") }}' })).toThrow(
      /bad\.sql line 1: \{\{ var\("x"\) \}\} has no value; set x under vars: in .*dbt_project\.yml, pass it with --vars '\{x: …\}', or give a default/,
    );
    expect(() => project({}, { 'models/bad.sql': "SELECT {{ var('x') | int }}" })).toThrow(
      /\{\{ var\('x'\) \| int \}\} is not a template tag inlet knows; inlet reads \{\{ var\('name'\) \}\} and \{\{ var\('name', default\) \}\} alone/,
    );
    expect(() =>
      project({}, { 'models/bad.sql': "SELECT {{ dbt_utils.generate_surrogate_key(['a']) }} AS k" }),
    ).toThrow(
      /is not a template tag inlet knows; inlet has no macros, so write what it makes as SQL; the tags are ref\('model'\)/,
    );
    expect(() =>
      project({}, { 'models/bad.sql': "SELECT 1 {% if var('flag', false) %}WHERE x{% endif %}" }),
    ).toThrow(
      "bad.sql line 1: {% if var('flag', false) %} is not a template tag inlet knows; inlet's only {% if %} is {% if is_incremental() %}; for a choice by a var, let SQL make it",
    );
    expect(() => project({}, { 'models/bad.sql': "{% set plans = ['free', 'team'] %}\nSELECT 1" })).toThrow(
      "bad.sql line 1: {% set plans = ['free', 'team'] %} is not a template tag inlet knows; a model sets no variables: read one with {{ var('name') }}",
    );
    expect(() =>
      project(
        {},
        { 'tests/generic/positive.sql': '{% test positive(model, column_name) %}\nSELECT 1\n{% endtest %}' },
      ),
    ).toThrow(
      /is not a template tag inlet knows; inlet has no custom generic tests: write the check as a sql: test/,
    );
    expect(() => project({}, { 'models/bad.sql': "SELECT * FROM {{ ref('pkg', 'orders') }}" })).toThrow(
      /is not a template tag inlet knows; ref\(\) takes one model's name in quotes/,
    );
    expect(() =>
      project({}, { 'models/bad.sql': 'SELECT 1', 'models/bad.yaml': 'materialised: view' }),
    ).toThrow(
      /bad\.yaml is not a valid model configuration:\n {2}\(top level\): Unrecognized key: "materialised"/,
    );
    // In front matter, the .sql file is where to look; a seed's .yml is named as it is spelt.
    expect(() => project({}, { 'models/front.sql': '/*---\nmaterialised: view\n---*/\nSELECT 1' })).toThrow(
      /front\.sql is not a valid model configuration:/,
    );
    expect(() => project({}, { 'seeds/plans.csv': 'id\n1\n', 'seeds/plans.yml': 'colums: {}' })).toThrow(
      /seeds\/plans\.yml is not a valid model configuration:/,
    );
    expect(() => project({}, { 'models/events.sql': 'SELECT 1' })).toThrow(
      /raw lake table; rename the model\./,
    );
    // A seed's error said to rename the model, where there is none.
    expect(() => project({}, { 'seeds/events.csv': 'a\n1\n' })).toThrow(
      /seeds\/events\.csv: "events" is the name of a raw lake table; rename the seed \(its file\)\./,
    );
    // column_types is a seed's: a model casts in its SELECT.
    expect(() =>
      project(
        {},
        { 'models/typed.sql': 'SELECT 1 AS x', 'models/typed.yaml': 'column_types: { x: varchar }' },
      ),
    ).toThrow(
      /typed\.yaml is not a valid model configuration:\n {2}column_types: is for seeds; a model casts in its SELECT \(x::VARCHAR\)/,
    );
    expect(() =>
      project({}, { 'seeds/typed.csv': 'x\n1\n', 'seeds/typed.yaml': 'column_types: [x]' }),
    ).toThrow(
      /typed\.yaml is not a valid model configuration:\n {2}column_types: must be a map of column name to type/,
    );
    // The SQL of a test in the configuration is a template too: a typo there was replaced by the
    // time zone, so the test compared 'UTC' and passed whatever the data.
    expect(() =>
      project(
        {},
        {
          'models/checked.sql': 'SELECT 1 AS x',
          'models/checked.yaml': 'tests:\n  - sql: SELECT * FROM {{ this }} WHERE {{ tihs }} IS NULL\n',
        },
      ),
    ).toThrow(/checked\.yaml tests\[0\]\.sql line 1: \{\{ tihs \}\} is not a template tag inlet knows/);
    // {{ this }} in a tests/ file has no model to stand for: it became empty SQL, a syntax error.
    expect(() =>
      project({}, { 'tests/no_dupes.sql': 'SELECT id FROM {{ this }} GROUP BY id HAVING count(*) > 1' }),
    ).toThrow(
      /tests\/no_dupes\.sql line 1: \{\{ this \}\} is a model's own table, and a file under tests\/ belongs to no model; name the model with \{\{ ref\('model'\) \}\}\./,
    );
    // A name of the right letters that is too long says so, not that its letters are wrong.
    const long = `m${'x'.repeat(69)}`;
    expect(() => project({}, { [`models/${long}.sql`]: 'SELECT 1' })).toThrow(
      `"${long}" is 70 characters long; a model name has at most 63.`,
    );
    expect(() => project({}, { 'models/Daily-Users.sql': 'SELECT 1' })).toThrow(
      /"Daily-Users" is not a model name; use lower-case letters, digits and _, starting with a lower-case letter/,
    );
    // A file or folder whose name began with _ was passed over without a word, so ref('_base') said
    // no model defines it, and dbt's models/_legacy/ lost its models.
    expect(() => project({}, { 'models/_base.sql': 'SELECT 1' })).toThrow(
      /_base\.sql: "_base" is not a model name; use lower-case letters, digits and _, starting with a lower-case letter/,
    );
    expect(() => project({}, { 'seeds/_plans.csv': 'plan\nfree\n' })).toThrow(/"_plans" is not a seed name/);
    const underscored = project(
      { report: ['orders'] },
      {
        'models/_legacy/orders.sql': 'SELECT 1 AS id',
        'models/_legacy/_models.yml': 'version: 2\nmodels:\n  - name: orders\n    description: Orders.\n',
        'seeds/_lists/plans.csv': 'plan\nfree\n',
        'tests/_checks/no_orders.sql': "SELECT * FROM {{ ref('orders') }} WHERE false",
      },
    );
    expect([...underscored.nodes.keys()].sort()).toEqual(['orders', 'plans', 'report']);
    expect(underscored.nodes.get('orders')?.config.description).toBe('Orders.');
    expect(underscored.tests.map((t) => t.name)).toEqual(['no_orders']);
    // Markdown-style front matter is SQL to DuckDB; the error says where front matter goes.
    expect(() =>
      project({}, { 'models/md.sql': '---\nmaterialized: table\ndescription: x\n---\nSELECT 1' }),
    ).toThrow(
      /md\.sql: front matter between --- lines is read as SQL; put it in a comment that starts with \/\*---/,
    );
    // A comment of dashes before plain SQL is not front matter.
    expect(project({}, { 'models/dashes.sql': '---\n-- counts\nSELECT 1' }).nodes.has('dashes')).toBe(true);
  });

  it("picks a built-in mart's folder by its bare name, as dbt's packages', but not after the project's name", () => {
    // shop.staging picked the built-in stg_events, stg_page_views and user_accounts beside the
    // project's models/staging/, and shop.staging.stg_events the built-in model, where the project's
    // name is the project's own models alone (inlet run shop; shop.staging.* picked them right).
    const dir = join(temp.dir, 'named-folders');
    writeProjectFile(dir, 'dbt_project.yml', 'name: shop\n');
    writeProjectFile(dir, 'models/staging/stg_orders.sql', 'SELECT 1 AS id');
    const p = loadProject({ projectDir: dir, builtin: true });
    const graph = buildGraph(p.nodes, p.disabled, p.name);
    expect(selectNodes(graph, ['staging'])).toEqual(
      expect.arrayContaining(['stg_events', 'stg_page_views', 'user_accounts', 'stg_orders']),
    );
    expect(selectNodes(graph, ['shop.staging'])).toEqual(['stg_orders']);
    expect(selectNodes(graph, ['shop.staging.stg_orders'])).toEqual(['stg_orders']);
    expect(() => selectNodes(graph, ['shop.staging.stg_events'])).toThrow(
      /No model or seed matches "shop\.staging\.stg_events"/,
    );
    expect(() => selectNodes(graph, ['shop.product'])).toThrow(/No model or seed matches "shop\.product"/);
  });

  it('lets a project model replace a built-in one of the same name, and a project seed keep its YAML', () => {
    const dir = join(temp.dir, 'override');
    writeProjectFile(dir, 'models/daily_active_users.sql', 'SELECT 1 AS mine');
    writeProjectFile(dir, 'seeds/features.csv', 'feature\nexport\n');
    const p = loadProject({ projectDir: dir, builtin: true });
    // A project's own CSV for a built-in seed keeps the built-in descriptions and tests.
    expect(p.nodes.get('features')).toMatchObject({
      origin: 'project',
      config: {
        description: expect.stringContaining('features_unused'),
        columns: { feature: { tests: ['not_null', 'unique'] } },
      },
    });
    expect(p.nodes.get('daily_active_users')).toMatchObject({ origin: 'project', sql: 'SELECT 1 AS mine' });
    expect([...p.nodes.values()].some((node) => node.origin === 'builtin')).toBe(true);
  });
});
