import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers.ts';
import { writeProjectFile } from '../../test/lake-fixtures.ts';
import { buildGraph, loadProject, selectNodes } from './index.ts';
import { parseVarsYaml, varText } from './model-vars.ts';

const temp = tempDir();
afterAll(() => temp.cleanup());
let n = 0;

/** A project of the files given, read with the --vars given. */
function project(files: Record<string, string>, vars?: Record<string, unknown>) {
  const dir = join(temp.dir, `p${n++}`);
  for (const [path, text] of Object.entries(files)) writeProjectFile(dir, path, text);
  return { dir, load: () => loadProject({ projectDir: dir, builtin: false, vars }) };
}

/** Runs work and checks that Node printed no warning meanwhile (the yaml package's, say). */
async function withoutNodeWarning(work: () => void): Promise<void> {
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);
  process.on('warning', onWarning);
  try {
    work();
    // Node emits a warning on a later turn of the event loop.
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('warning', onWarning);
  }
  expect(warnings).toEqual([]);
}

const sqlOf = (files: Record<string, string>, vars?: Record<string, unknown>, model = 'm') =>
  project(files, vars).load().nodes.get(model)?.sql;

describe("dbt's var()", () => {
  it('renders a var from dbt_project.yml, as dbt does: a string bare, so the SQL quotes it', () => {
    const files = {
      'dbt_project.yml': "name: shop\nvars:\n  start_date: '2026-01-01'\n  min_amount: 5\n",
      'models/m.sql':
        "SELECT * FROM t WHERE d >= '{{ var(\"start_date\") }}' AND amount >= {{ var('min_amount') }}",
    };
    expect(sqlOf(files)).toBe("SELECT * FROM t WHERE d >= '2026-01-01' AND amount >= 5");
  });

  it('lets --vars win over dbt_project.yml, and vars scoped to the project by its name win over global ones', () => {
    const files = {
      'dbt_project.yml': 'name: shop\nvars:\n  a: global\n  b: global\n  shop:\n    b: scoped\n',
      'models/m.sql': "SELECT '{{ var('a') }}' AS a, '{{ var('b') }}' AS b",
    };
    expect(sqlOf(files)).toBe("SELECT 'global' AS a, 'scoped' AS b");
    expect(sqlOf(files, { a: 'cli', b: 'cli' })).toBe("SELECT 'cli' AS a, 'cli' AS b");
  });

  it("takes var('name', default) when the var is set nowhere, and the set value over the default", () => {
    const files = {
      'models/m.sql':
        "SELECT {{ var('n', 7) }} AS n, '{{ var(\"s\", 'x') }}' AS s, {{ var('on', true) }} AS b",
    };
    expect(sqlOf(files)).toBe("SELECT 7 AS n, 'x' AS s, True AS b");
    expect(sqlOf(files, { n: 9 })).toBe("SELECT 9 AS n, 'x' AS s, True AS b");
    expect(() => sqlOf({ 'models/m.sql': "SELECT {{ var('n', other_var) }}" })).toThrow(
      "m.sql line 1: the default of {{ var('n', other_var) }} must be a literal: a quoted string, a number, true/false or none.",
    );
  });

  it("says a second YAML document in dbt_project.yml or a model's .yml in words, not yaml's to a JavaScript caller", () => {
    // It said "Source contains multiple documents; please use YAML.parseAllDocuments() at line 2, column 1:".
    const words =
      'a second YAML document starts at line 2 (after a --- line), and inlet reads one; remove the --- line, or what follows it';
    expect(project({ 'dbt_project.yml': 'name: shop\n---\nx: 1\n' }).load).toThrow(
      `dbt_project.yml is not valid YAML: ${words}`,
    );
    expect(
      project({ 'models/m.sql': 'SELECT 1 AS n', 'models/m.yml': 'description: x\n---\na: 1\n' }).load,
    ).toThrow(`m.yml is not valid YAML: ${words}`);
  });

  it("refuses a var made a set, an ordered map, pairs or bytes, which rendered as {} (dbt renders Python's)", () => {
    for (const [value, tag, kind] of [
      ['!!set {x}', 'set', 'a set'],
      ['!!omap [b: 1]', 'omap', 'an ordered map'],
      ['!!pairs [b: 1]', 'pairs', 'a list of pairs'],
      ['!!binary aGVsbG8=', 'binary', 'bytes'],
    ])
      expect(project({ 'dbt_project.yml': `name: shop\nvars:\n  v: ${value}\n` }).load, tag).toThrow(
        `dbt_project.yml is not valid YAML as dbt reads it: the tag !!${tag} (line 3, column 6) makes ${kind}, which inlet does not render as dbt does; write a list, a map or text instead.`,
      );
  });

  it('refuses a tag YAML does not know in dbt_project.yml, as dbt does, naming it, with no Node warning', async () => {
    await withoutNodeWarning(() => {
      const p = project({ 'dbt_project.yml': 'name: shop\nvars:\n  f: !!js/function x\n' });
      expect(p.load).toThrow(
        /dbt_project\.yml is not valid YAML as dbt reads it: the tag !!js\/function \(line 3, column 6\) is not one YAML knows; quote the value to pass it as text\./,
      );
    });
  });

  it("refuses a tag YAML does not know in a model's front matter, its .yml and a properties file, naming the file and line, with no Node warning", async () => {
    await withoutNodeWarning(() => {
      const front = project({
        'models/m.sql': '\n/*---\nmaterialized: table\nowner: !foo x\n---*/\nSELECT 1 AS n',
      });
      // The line is the model file's, not the front matter's.
      expect(front.load).toThrow(
        /m\.sql: the front matter is not valid YAML: the tag !foo \(line 4, column 8\) is not one YAML knows; quote the value to pass it as text\./,
      );
      const sibling = project({
        'models/m.sql': 'SELECT 1 AS n',
        'models/m.yml': 'materialized: !!js/function x\n',
      });
      expect(sibling.load).toThrow(
        /m\.yml is not valid YAML: the tag !!js\/function \(line 1, column 15\) is not one YAML knows/,
      );
      const properties = project({
        'models/m.sql': 'SELECT 1 AS n',
        'models/schema.yml': 'version: 2\nmodels:\n  - name: m\n    description: !foo x\n',
      });
      expect(properties.load).toThrow(
        expect.objectContaining({
          code: 'MODEL_INVALID',
          message: expect.stringMatching(
            /schema\.yml: is not valid YAML: the tag !foo \(line 4, column 18\) is not one YAML knows/,
          ),
        }),
      );
    });
  });

  it("refuses dbt_project.yml, a model's .yml and .sql, a properties file and doc blocks that are not UTF-8, naming the file and line", () => {
    // Each was read with U+FFFD for a Latin-1 é, and its text went on as "caf\uFFFD" without a word.
    const latin1 = (text: string) => Buffer.from(text, 'latin1');
    const cases: Array<[string, Buffer, string]> = [
      ['dbt_project.yml', latin1('name: shop\nvars:\n  city: caf\u00e9\n'), 'line 3'],
      ['models/m.yml', latin1('materialized: table\ndescription: caf\u00e9\n'), 'line 2'],
      ['models/m.sql', latin1("SELECT 'caf\u00e9' AS c"), 'line 1'],
      ['models/docs.md', latin1('{% docs city %}\ncaf\u00e9\n{% enddocs %}\n'), 'line 2'],
      ['models/schema.yml', Buffer.from('\uFEFFversion: 2\nmodels:\n  - name: m\n', 'utf16le'), 'UTF-16'],
    ];
    for (const [file, bytes, where] of cases) {
      const { dir, load } = project({ 'models/m.sql': 'SELECT 1 AS c' });
      writeProjectFile(dir, file, '');
      writeFileSync(join(dir, file), bytes);
      const message =
        where === 'UTF-16'
          ? `${file} is UTF-16 text (it starts with a UTF-16 byte-order mark); save it as UTF-8.`
          : `${file} is not UTF-8 text: ${where} holds a byte UTF-8 has not (é in Latin-1 or Windows-1252, say); save it as UTF-8.`;
      expect(load, file).toThrow(
        expect.objectContaining({ code: 'MODEL_INVALID', message: expect.stringContaining(message) }),
      );
    }
  });

  it('names a key written as a list or a map in front matter, a .yml, a properties file and vars, with no Node warning', async () => {
    await withoutNodeWarning(() => {
      const front = project({ 'models/m.sql': '/*---\n[a, b]: 1\n---*/\nSELECT 1 AS n' });
      expect(front.load).toThrow(
        /m\.sql is not a valid model configuration:\n {2}\(top level\): Unrecognized key: "\[ a, b \]"/,
      );
      const sibling = project({
        'models/m.sql': 'SELECT 1 AS n',
        'models/m.yml': 'description: M.\n{ x: 1 }: 2\n',
      });
      expect(sibling.load).toThrow(
        /m\.yml is not a valid model configuration:\n {2}\(top level\): Unrecognized key: "\{ x: 1 \}"/,
      );
      const properties = project({
        'models/m.sql': 'SELECT 1 AS n',
        'models/schema.yml': 'version: 2\nmodels:\n  - { name: m, [a]: 1 }\n',
      });
      expect(properties.load).toThrow(/\[ a \]/);
      // A var no one could name: PyYAML refuses the key as unhashable, and so does inlet.
      const vars = project({ 'dbt_project.yml': 'name: shop\nvars:\n  x: 1\n  ? [a, b]\n  : 1\n' });
      expect(vars.load).toThrow(
        'dbt_project.yml is not valid YAML as dbt reads it: the key [a, b] (line 4, column 5) is a list or a map; a key must be a name, such as a: 1.',
      );
      expect(() => parseVarsYaml('{[a]: 1}')).toThrow(
        'the key [a] (line 1, column 2) is a list or a map; a key must be a name, such as a: 1.',
      );
    });
  });

  it('renders values as Jinja prints them: booleans True/False, lists and maps as Python writes them', () => {
    expect([true, false, null, 3, 'a', ['x', 1], { k: "it's" }].map(varText)).toEqual([
      'True',
      'False',
      'None',
      '3',
      'a',
      "['x', 1]",
      "{'k': 'it\\'s'}",
    ]);
  });

  it('reads vars as dbt does, with PyYAML (YAML 1.1): yes/off are booleans, 017 octal, 1e3 text, a date as Python prints it', () => {
    // Each expected text is what dbt 1.x renders: str() of what PyYAML 6's SafeLoader makes of the value.
    const written: [string, string][] = [
      ['yes', 'True'],
      ['off', 'False'],
      ['n', 'n'],
      ['1e3', '1e3'],
      ['1.0e3', '1.0e3'],
      ['1.0e+3', '1000.0'],
      ['017', '15'],
      ['09', '09'],
      ['0o17', '0o17'],
      ['1_000', '1000'],
      ['1:30', '90'],
      ['2026-01-01', '2026-01-01'],
      ['2026-1-5', '2026-1-5'],
      ['2026-01-01T10:00:00Z', '2026-01-01 10:00:00+00:00'],
      ['2026-01-01 10:00:00.5 -05:00', '2026-01-01 10:00:00.500000-05:00'],
      ['[on, 1.5, 010]', '[True, 1.5, 8]'],
      // Python's int has no limit: every digit is kept, past 2^53 too.
      ['9007199254740993', '9007199254740993'],
      ['-12345678901234567890123', '-12345678901234567890123'],
      ['0x1FFFFFFFFFFFFFFFFF', '590295810358705651711'],
      ['0777777777777777777777', '9223372036854775807'],
      ['1_000_000_000_000_000_001', '1000000000000000001'],
      ['[9007199254740993]', '[9007199254740993]'],
      // In a list or a map, a date prints as Python's repr() of it, as a string would print quoted.
      [
        '[2026-01-01, 2026-01-01T10:00:00Z]',
        '[datetime.date(2026, 1, 1), datetime.datetime(2026, 1, 1, 10, 0, tzinfo=datetime.timezone.utc)]',
      ],
      [
        '{from: 2026-01-01 10:00:07.25 -01:30, to: 2026-01-31T00:00:00+05:30}',
        "{'from': datetime.datetime(2026, 1, 1, 10, 0, 7, 250000, tzinfo=datetime.timezone(datetime.timedelta(days=-1, seconds=81000))), 'to': datetime.datetime(2026, 1, 31, 0, 0, tzinfo=datetime.timezone(datetime.timedelta(seconds=19800)))}",
      ],
    ];
    const files = {
      'dbt_project.yml': `name: shop\nvars:\n${written.map(([value], i) => `  v${i}: ${value}\n`).join('')}`,
      'models/m.sql': written.map((_, i) => `{{ var('v${i}') }}`).join('|'),
    };
    expect(sqlOf(files)?.split('|')).toEqual(written.map(([, text]) => text));
    // --vars is read alike.
    const cli = parseVarsYaml(`{${written.map(([value], i) => `v${i}: ${value}`).join(', ')}}`);
    expect(sqlOf(files, cli as Record<string, unknown>)?.split('|')).toEqual(written.map(([, text]) => text));
    // So is a var()'s default: Jinja's int keeps every digit too.
    expect(sqlOf({ 'models/m.sql': "{{ var('id', 9007199254740993) }}" })).toBe('9007199254740993');
  });

  it('refuses a date in vars that is no real day (2026-02-30), naming the key, as dbt fails on it', () => {
    // inlet rendered the text 2026-02-30 where dbt stops: "day is out of range for month".
    expect(() => parseVarsYaml('{a: 2026-02-30}')).toThrow(
      'a: 2026-02-30 is no date (day is out of range for month), which dbt refuses; write a real date, or quote it ("2026-02-30") to pass it as text.',
    );
    expect(() => parseVarsYaml('{b: [2026-01-01, 2026-13-01]}')).toThrow(
      /^b: 2026-13-01 is no date \(month must be in 1\.\.12\)/,
    );
    expect(() => parseVarsYaml('{c: 2026-04-30 24:00:00}')).toThrow(
      /^c: 2026-04-30 24:00:00 is no date \(hour must be in 0\.\.23\)/,
    );
    expect(() => parseVarsYaml('{d: 2025-02-29}')).toThrow(/^d: 2025-02-29 is no date \(day is out of range/);
    // A leap day, and a date quoted as text, are taken.
    expect(String((parseVarsYaml('{a: 2024-02-29}') as Record<string, unknown>).a)).toBe('2024-02-29');
    expect(parseVarsYaml('{a: "2026-02-30"}')).toEqual({ a: '2026-02-30' });
  });

  it('renders a YAML float as Python prints it (1.0 stays 1.0), from dbt_project.yml, --vars and a default', () => {
    const files = {
      'dbt_project.yml':
        'name: shop\nvars:\n  rate: 1.0\n  rates: [2.50, 3, .5]\n  huge: 1.0e+16\n  tiny: 0.00001\n',
      'models/m.sql':
        "{{ config(materialized='incremental', lookback_days=var('days')) }}\nSELECT {{ var('rate') }}, {{ var('rates') }}, {{ var('huge') }}, {{ var('tiny') }}, {{ var('d', 2.0) }}, {{ var('days') }}",
    };
    const vars = parseVarsYaml('{rate: 3.0, days: 2.0}') as Record<string, unknown>;
    const loaded = project(files, vars).load().nodes.get('m');
    expect(loaded?.sql.trim()).toBe('SELECT 3.0, [2.5, 3, 0.5], 1e+16, 1e-05, 2.0, 2.0');
    // config() takes the var's value, a number, as it does when dbt renders config() first.
    expect(loaded?.config.lookback_days).toBe(2);
    expect(sqlOf(files, { days: 2 })).toContain('SELECT 1.0, [2.5, 3, 0.5]');
  });

  it('names a var with no value, the model and line, and where to set it; a var in a {# comment #} needs none', () => {
    const { dir, load } = project({
      'models/m.sql': "-- totals\nSELECT {{ var('cutoff') }} {# {{ var('old') }} #}",
    });
    expect(load).toThrow(
      `${join(dir, 'models', 'm.sql')} line 2: {{ var('cutoff') }} has no value; set cutoff under vars: in ${join(dir, 'dbt_project.yml')}, pass it with --vars '{cutoff: …}', or give a default: {{ var('cutoff', …) }}.`,
    );
  });

  it("reads a var() in config()'s arguments as its value, as dbt renders config() first", () => {
    const files = {
      'dbt_project.yml': 'name: shop\nvars:\n  keys: [id, kind]\n',
      'models/m.sql':
        "{{ config(materialized=var('mat', 'incremental'), unique_key=var(\"keys\"), owner=var('owner', 'data')) }}\nSELECT 1 AS id, 'a' AS kind",
    };
    const config = (vars?: Record<string, unknown>) => project(files, vars).load().nodes.get('m')?.config;
    expect(config()).toMatchObject({
      materialized: 'incremental',
      unique_key: ['id', 'kind'],
      owner: 'data',
    });
    expect(config({ keys: 'id', owner: 'shop' })).toMatchObject({ unique_key: 'id', owner: 'shop' });
    const { dir, load } = project({
      'models/m.sql': "-- m\n{{ config(materialized=var('mat')) }}\nSELECT 1",
    });
    expect(load).toThrow(
      `${join(dir, 'models', 'm.sql')} line 2: config()'s var('mat') has no value; set mat under vars: in ${join(dir, 'dbt_project.yml')}, pass it with --vars '{mat: …}', or give a default: {{ var('mat', …) }}.`,
    );
    expect(
      project({ 'models/m.sql': "{{ config(materialized=var('mat', 'view'  ) }}\nSELECT 1" }).load,
    ).toThrow(
      /m\.sql line 1: config\(materialized=var\('mat', 'view'\) has a var\(\) that is not closed with \) after its name and default/,
    );
  });

  it("renders vars in a model's sql: tests and in tests/ files too", () => {
    const p = project(
      {
        'models/m.sql': 'SELECT 1 AS x',
        'models/m.yaml': "tests:\n  - sql: SELECT * FROM {{ this }} WHERE x > {{ var('max') }}\n",
        'tests/small.sql': "SELECT * FROM {{ ref('m') }} WHERE x > {{ var('max') }}",
      },
      { max: 3 },
    ).load();
    expect(p.nodes.get('m')?.config.tests).toEqual([{ sql: 'SELECT * FROM {{ this }} WHERE x > 3' }]);
    expect(p.tests.map((t) => t.sql)).toEqual(["SELECT * FROM {{ ref('m') }} WHERE x > 3"]);
  });
});

describe('project folders', () => {
  it('refuses a file where a folder of the project is, naming it, not as an error inlet did not foresee', () => {
    // Each was "ENOTDIR: not a directory, scandir '…/models'" (exit 5).
    for (const [files, folder] of [
      [{ models: 'x' }, 'models'],
      [{ 'models/a.sql': 'SELECT 1 AS x', seeds: 'code\n1\n' }, 'seeds'],
      [{ 'models/a.sql': 'SELECT 1 AS x', tests: '' }, 'tests'],
      [{ 'dbt_project.yml': 'name: shop\nmodel-paths: [sql.txt]\n', 'sql.txt': 'x' }, 'sql.txt'],
    ] as const) {
      const p = project(files);
      expect(p.load, folder).toThrow(
        `${join(p.dir, folder)} is a file, where inlet looks for a folder of the project; move the file out of the way and make ${folder} a folder (or leave it out)`,
      );
    }
  });
});

describe('dbt_project.yml', () => {
  it("reads models, seeds and tests from dbt's model-paths, seed-paths and test-paths", () => {
    const p = project({
      'dbt_project.yml':
        'name: shop\nmodel-paths: [transform, more]\nseed-paths: [data]\ntest-paths: [checks]\n',
      'transform/a.sql': 'SELECT 1 AS x',
      'more/b.sql': "SELECT * FROM {{ ref('a') }}",
      'transform/schema.yml': 'version: 2\nmodels:\n  - name: a\n    description: From a properties file.\n',
      'data/codes.csv': 'code\n1\n',
      'checks/none.sql': "SELECT * FROM {{ ref('b') }} WHERE false",
      'models/ignored.sql': 'SELECT 1',
    }).load();
    expect([...p.nodes.keys()].sort()).toEqual(['a', 'b', 'codes']);
    expect(p.nodes.get('a')?.config.description).toBe('From a properties file.');
    expect(p.tests.map((t) => t.name)).toEqual(['none']);
  });

  it('accepts what dbt init writes, and builds its example models as the views its models: block says', () => {
    const p = project({
      'dbt_project.yml': [
        "name: 'shop'",
        "version: '1.0.0'",
        'config-version: 2',
        "profile: 'shop'",
        'model-paths: ["models"]',
        'analysis-paths: ["analyses"]',
        'test-paths: ["tests"]',
        'seed-paths: ["seeds"]',
        'macro-paths: ["macros"]',
        'snapshot-paths: ["snapshots"]',
        'clean-targets: ["target", "dbt_packages"]',
        'models:',
        '  shop:',
        '    example:',
        '      +materialized: view',
      ].join('\n'),
      'models/example/m.sql': 'SELECT 1 AS x',
    }).load();
    expect(p.nodes.get('m')?.config.materialized).toBe('view');
  });

  it("takes models:'s +materialized by folder, the deepest folder (or the model's name) winning and the model's own config over all", () => {
    const p = project({
      'dbt_project.yml': [
        'name: shop',
        'models:',
        '  +materialized: table',
        '  shop:',
        '    staging:',
        '      +materialized: view',
        '      stg_big: { +materialized: table }',
        '    marts:',
        '      events:',
        '        materialized: incremental',
      ].join('\n'),
      'models/staging/stg_orders.sql': 'SELECT 1 AS x',
      'models/staging/stg_big.sql': 'SELECT 1 AS x',
      'models/staging/stg_own.sql': "{{ config(materialized='table') }}\nSELECT 1 AS x",
      'models/marts/events/daily.sql': 'SELECT current_date AS dt',
      'models/marts/totals.sql': 'SELECT 1 AS x',
    }).load();
    const materialized = Object.fromEntries(
      [...p.nodes].map(([name, node]) => [name, node.config.materialized]),
    );
    expect(materialized).toEqual({
      stg_orders: 'view',
      stg_big: 'table',
      stg_own: 'table',
      daily: 'incremental',
      totals: 'table',
    });
  });

  it("takes models:'s +unique_key and +lookback_days by folder for the incremental models that would take them, a model's own winning", () => {
    const p = project({
      'dbt_project.yml': [
        'name: shop',
        'models:',
        '  shop:',
        '    +lookback_days: 3',
        '    +meta: {}',
        '    keyed:',
        '      +materialized: incremental',
        '      +unique_key: [id, kind]',
        '      own_key: { +unique_key: id }',
      ].join('\n'),
      'models/keyed/by_folder.sql': "SELECT 1 AS id, 'a' AS kind",
      'models/keyed/own_key.sql': 'SELECT 1 AS id',
      'models/keyed/by_dt.sql': '/*---\nlookback_days: 7\n---*/\nSELECT current_date AS dt',
      'models/keyed/as_table.sql': "{{ config(materialized='table') }}\nSELECT 1 AS id",
      'models/daily.sql': "{{ config(materialized='incremental') }}\nSELECT current_date AS dt",
      'models/daily_own.sql':
        "{{ config(materialized='incremental', lookback_days=0) }}\nSELECT current_date AS dt",
    });
    expect(p.load).toThrow(
      /models\.shop\.\+meta is a setting .*; inlet has no meta, since nothing would read it; give a model's owner as its owner:, and other notes in a description; then remove it\./,
    );
    writeProjectFile(
      p.dir,
      'dbt_project.yml',
      readFileSync(join(p.dir, 'dbt_project.yml'), 'utf8').replace('    +meta: {}\n', ''),
    );
    const loaded = p.load();
    expect(loaded.warnings).toEqual([]);
    const config = Object.fromEntries(
      [...loaded.nodes].map(([name, node]) => [
        name,
        [node.config.materialized, node.config.unique_key ?? null, node.config.lookback_days],
      ]),
    );
    expect(config).toEqual({
      as_table: ['table', null, 1],
      by_dt: ['incremental', null, 7],
      by_folder: ['incremental', ['id', 'kind'], 1],
      own_key: ['incremental', 'id', 1],
      daily: ['incremental', null, 3],
      daily_own: ['incremental', null, 0],
    });
    // Where no model takes it, it does nothing: said, as an entry for no folder is.
    const unapplied = project({
      'dbt_project.yml':
        'name: shop\nmodels:\n  shop:\n    views:\n      +materialized: view\n      +unique_key: id\n    keyed:\n      +lookback_days: 2\n    old:\n      +enabled: false\n      +unique_key: id\n',
      'models/views/v.sql': 'SELECT 1 AS id',
      'models/keyed/k.sql': "{{ config(materialized='incremental', unique_key='id') }}\nSELECT 1 AS id",
      'models/old/o.sql': "{{ config(materialized='incremental') }}\nSELECT 1 AS id",
    }).load();
    expect(unapplied.warnings).toEqual([
      expect.stringMatching(
        /dbt_project\.yml: models\.shop\.views\.\+unique_key, models\.shop\.keyed\.\+lookback_days configure no model: every model under them is a table or a view, or gives its own unique_key or lookback_days \(one by unique_key takes no lookback_days\); remove them, or make the models incremental\.$/,
      ),
    ]);
    const fails = (yaml: string) => project({ 'dbt_project.yml': yaml, 'models/m.sql': 'SELECT 1' }).load;
    expect(fails('name: shop\nmodels:\n  shop:\n    +unique_key: []\n')).toThrow(
      /dbt_project\.yml: models\.shop\.\+unique_key is \[\]; it must be a column name or a list of them\./,
    );
    expect(fails('name: shop\nmodels:\n  shop:\n    +lookback_days: two\n')).toThrow(
      /dbt_project\.yml: models\.shop\.\+lookback_days is "two"; it must be a whole number of days from 0 to 366\./,
    );
  });

  it("selects by a model's path as dbt's fully qualified names do: folders, then its name, after the project's name or not", () => {
    const p = project({
      'dbt_project.yml': 'name: shop\n',
      'models/staging/stg_orders.sql': 'SELECT 1 AS x',
      'models/staging/stg_items.sql': 'SELECT 1 AS x',
      'models/marts/finance/revenue.sql': 'SELECT 1 AS x',
      'models/marts/finance/old.sql': '{{ config(enabled=false) }}\nSELECT 1 AS x',
    });
    const loaded = p.load();
    const graph = buildGraph(loaded.nodes, loaded.disabled, loaded.name);
    expect(selectNodes(graph, ['staging.stg_orders'])).toEqual(['stg_orders']);
    // The project's name alone is its own models and seeds, not the built-in marts beside them.
    const withBuiltin = loadProject({ projectDir: p.dir, builtin: true });
    expect(withBuiltin.nodes.has('stg_events')).toBe(true);
    expect(
      selectNodes(buildGraph(withBuiltin.nodes, withBuiltin.disabled, withBuiltin.name), ['shop']).sort(),
    ).toEqual(['revenue', 'stg_items', 'stg_orders']);
    expect(selectNodes(graph, ['shop.staging'])).toEqual(['stg_items', 'stg_orders']);
    expect(selectNodes(graph, ['shop.marts.finance.revenue'])).toEqual(['revenue']);
    expect(selectNodes(graph, [], ['marts.finance.old', 'staging.stg_items'])).toEqual([
      'revenue',
      'stg_orders',
    ]);
    expect(() => selectNodes(graph, ['staging.stg_order'])).toThrow(
      /No model or seed matches "staging\.stg_order"/,
    );
    expect(() => selectNodes(graph, ['shop.marts.finance.old'])).toThrow(
      /"shop\.marts\.finance\.old" names old, which is switched off \(enabled=false in its config\(\), for .*old\.sql\); enable it/,
    );
  });

  it('refuses by name what it would otherwise ignore: folder-wide model configuration, hooks, unknown keys', () => {
    const fails = (yaml: string) => project({ 'dbt_project.yml': yaml, 'models/m.sql': 'SELECT 1' }).load;
    expect(fails('name: shop\nmodels:\n  shop:\n    marts:\n      +schema: analytics\n')).toThrow(
      /dbt_project\.yml: models\.shop\.marts\.\+schema is a setting inlet does not read from dbt_project\.yml \(only \+materialized, \+enabled, \+unique_key and \+lookback_days, by folder\); inlet publishes every model by its name in one schema; name the file for what it should be called; then remove it\./,
    );
    expect(fails('name: shop\nmodels:\n  shop:\n    +tags: [nightly]\n')).toThrow(
      /models\.shop\.\+tags is a setting inlet does not read .*; inlet has no tags: a selector names a folder instead/,
    );
    // What a model's own configuration refuses too is not sent there: it says what to do instead.
    expect(fails('name: shop\nmodels:\n  shop:\n    +full_refresh: false\n')).toThrow(
      /models\.shop\.\+full_refresh is a setting inlet does not read .*; a model is rebuilt whole only by inlet run --full-refresh; leave it out of such a run with --exclude; then remove it\./,
    );
    expect(fails('name: shop\nmodels:\n  shop:\n    +post-hook: [analyze]\n')).toThrow(
      /models\.shop\.\+post-hook is a setting inlet does not read .*; inlet runs no hooks; make the work a model, or a test under tests\/; then remove it\./,
    );
    expect(fails('name: shop\nmodels:\n  shop:\n    +on_schema_change: fail\n')).toThrow(
      /models\.shop\.\+on_schema_change is a setting inlet does not read .*; an incremental model whose columns change fails and says to run it with --full-refresh; then remove it\./,
    );
    expect(fails('name: shop\nmodels:\n  shop:\n    +owner: data\n')).toThrow(
      /models\.shop\.\+owner is a setting inlet does not read .*; give it in each model's configuration/,
    );
    expect(fails('name: shop\nmodels:\n  shop:\n    +enabled: "no"\n')).toThrow(
      /dbt_project\.yml: models\.shop\.\+enabled is "no"; it must be true or false\./,
    );
    expect(fails('models:\n  shop:\n    +materialized: ephemeral\n')).toThrow(
      /models\.shop\.\+materialized is "ephemeral"; inlet builds view, table or incremental \(for ephemeral, use view: nothing is stored\)/,
    );
    // Settings under another project's name (dbt init's, before a rename) configure nothing: dbt only warns.
    const renamed = project({
      'dbt_project.yml':
        'name: shop\nmodels:\n  my_new_project:\n    +materialized: view\n    example: { +materialized: view }\n',
      'models/m.sql': 'SELECT 1',
    }).load();
    expect([...renamed.nodes.keys()]).toEqual(['m']);
    expect(renamed.nodes.get('m')?.config.materialized).toBe('table');
    expect(renamed.warnings).toEqual([
      expect.stringMatching(
        /dbt_project\.yml: models\.my_new_project configures no model: the project is named shop \(name:\), and inlet has no packages; put its settings under models\.shop, or remove it\.$/,
      ),
    ]);
    // An entry for no folder or model (a typo, dbt init's example:) configures nothing: dbt only warns.
    const stale = project({
      'dbt_project.yml':
        'name: shop\nmodels:\n  shop:\n    stagin:\n      +materialized: view\n    example: { +materialized: view }\n',
      'models/m.sql': 'SELECT 1',
    }).load();
    expect([...stale.nodes.keys()]).toEqual(['m']);
    expect(stale.warnings).toEqual([
      expect.stringMatching(
        /dbt_project\.yml: models\.shop\.stagin, models\.shop\.example configure no model: no folder or model by that name under .*models; correct the name, or remove it\./,
      ),
    ]);
    // Without name:, which of several entries is the project's cannot be told.
    expect(
      fails('models:\n  shop:\n    +materialized: view\n  my_new_project:\n    +materialized: table\n'),
    ).toThrow(
      /dbt_project\.yml: models: configures shop, my_new_project; say which is this project with name:, and remove the others \(inlet has no packages\)\./,
    );
    expect(fails("on-run-end: ['grant select on all tables']\n")).toThrow(
      /dbt_project\.yml: on-run-end: inlet runs no hooks/,
    );
    expect(fails('model-path: [transform]\n')).toThrow(
      /dbt_project\.yml: model-path: is not a key of dbt_project\.yml that inlet knows; inlet reads vars:, models: \(\+materialized, \+enabled, \+unique_key, \+lookback_days\), model-paths:/,
    );
    expect(fails('model-paths: transform\n')).toThrow(
      /dbt_project\.yml: model-paths must be a list of folders inside the project, such as \["models"\]; it is "transform"\./,
    );
    // A folder outside the project: docs-paths: [/] walked the machine and ended in EACCES (exit 5).
    for (const [key, value] of [
      ['docs-paths', '/'],
      ['model-paths', '../shared'],
      ['seed-paths', '/tmp'],
    ])
      expect(fails(`${key}: ["${value}"]\n`), key).toThrow(
        `dbt_project.yml: ${key} must be a list of folders inside the project, such as`,
      );
    expect(fails('vars: [a, b]\n')).toThrow(/dbt_project\.yml: vars: must be a map of names to values/);
    // A date or a float is read as a value of its own, not as a map of its fields.
    expect(fails('vars: 2026-01-01\n')).toThrow(/dbt_project\.yml: vars: must be a map of names to values/);
    expect(fails('vars: 1.0\n')).toThrow(/dbt_project\.yml: vars: must be a map of names to values/);
  });

  it("takes dbt's docs: and persist_docs: in a model's configuration as +docs in dbt_project.yml, warning of show: false", () => {
    const loaded = project({
      'dbt_project.yml':
        'name: shop\nmodels:\n  shop:\n    +persist_docs: { relation: true }\n    staging:\n      +docs: { show: false }\n',
      'models/staging/s.sql': 'SELECT 1 AS n',
      'models/m.sql': 'SELECT 1 AS n',
      'models/schema.yml':
        'version: 2\nmodels:\n  - name: m\n    description: Orders.\n    docs: { show: false, node_color: red }\n    persist_docs: { relation: true }\n',
      'models/shown.yaml': 'docs: { show: true }\n',
      'models/shown.sql': 'SELECT 1 AS n',
      'seeds/countries.csv': 'code\nde\n',
      'seeds/countries.yml': 'docs: { show: false }\n',
      // dbt's own way, a dict literal in config(): the same warning, and a nested one goes by.
      'models/called.sql':
        "{{ config(materialized='view', docs={'show': false, \"node_color\": 'red',}, persist_docs={'relation': true, 'columns': {'n': [1, 'x'], 'm': {}}}) }}\nSELECT 1 AS n",
    }).load();
    expect([...loaded.nodes.keys()].sort()).toEqual(['called', 'countries', 'm', 's', 'shown']);
    expect(loaded.nodes.get('called')?.config.materialized).toBe('view');
    expect(loaded.nodes.get('m')?.config.description).toBe('Orders.');
    expect(loaded.warnings).toEqual([
      expect.stringMatching(
        /dbt_project\.yml: models\.shop\.staging\.\+docs: \{ show: false \} is passed over: inlet's catalog lists every model and seed, with its description; remove it\.$/,
      ),
      expect.stringMatching(/called\.sql's config\(\): docs: \{ show: false \} is passed over/),
      expect.stringMatching(/schema\.yml \(model m\): docs: \{ show: false \} is passed over/),
      expect.stringMatching(/countries\.yml: docs: \{ show: false \} is passed over/),
    ]);
  });

  it('leaves out models switched off by +enabled: false for their folder, or enabled: false of their own', () => {
    const files = {
      'dbt_project.yml': [
        'name: shop',
        'models:',
        '  shop:',
        '    +docs: { show: false }',
        '    legacy:',
        '      +enabled: false',
        '      +persist_docs: { relation: true }',
        '      kept: { +enabled: true }',
        '    archive: { +enabled: false }',
      ].join('\n'),
      'models/archive/2024/one.sql': 'SELECT 1 AS x',
      'models/archive/two.sql': 'SELECT 1 AS x',
      'models/legacy/old.sql': "SELECT {{ var('gone') }} AS x {{ nonsense }}",
      'models/legacy/kept.sql': 'SELECT 1 AS x',
      'models/own.sql': "{{ config(enabled=false, materialized='view') }}\nSELECT 1 AS x",
      'models/front.sql': '/*---\nenabled: false\n---*/\nSELECT 1 AS x',
      'models/current.sql': "SELECT * FROM {{ ref('kept') }}",
    };
    const loaded = project(files).load();
    expect([...loaded.nodes.keys()].sort()).toEqual(['current', 'kept']);
    // inlet run old: the model is there, switched off, rather than nowhere.
    const graph = buildGraph(loaded.nodes, loaded.disabled);
    expect(() => selectNodes(graph, ['+old'])).toThrow(
      /"\+old" names old, which is switched off \(models\.shop\.legacy\.\+enabled: false in .*dbt_project\.yml, for .*old\.sql\); enable it to build or test it, or leave it out\./,
    );
    expect(selectNodes(graph, ['legacy'])).toEqual(['kept']);
    // --exclude old: there is nothing of old to leave out, as dbt passes over it.
    expect(selectNodes(graph, [], ['old', 'own+'])).toEqual(['kept', 'current']);
    expect(selectNodes(graph, ['current'], ['+old'])).toEqual(['current']);
    // A folder whose models are all switched off is passed over by --exclude, as one of them is.
    expect(selectNodes(graph, [], ['archive', 'archive.2024+'])).toEqual(['kept', 'current']);
    expect(() => selectNodes(graph, ['archive'])).toThrow(
      /"archive" names the folder archive, whose models are all switched off \(one: models\.shop\.archive\.\+enabled: false in .*dbt_project\.yml, for .*one\.sql; two: .*two\.sql\); enable them to build or test them, or leave it out\./,
    );
    expect(() => selectNodes(graph, [], ['olde'])).toThrow(/No model or seed matches "olde"/);
    const reading = (sql: string, more: Record<string, string> = {}) =>
      project({ ...files, 'models/current.sql': sql, ...more }).load;
    expect(reading("SELECT * FROM {{ ref('old') }}")).toThrow(
      /current \(.*current\.sql\) refers to ref\('old'\), which is disabled \(models\.shop\.legacy\.\+enabled: false in .*dbt_project\.yml, for .*old\.sql\); enable old, or disable current too\./,
    );
    expect(reading("SELECT * FROM {{ ref('own') }}")).toThrow(
      /refers to ref\('own'\), which is disabled \(enabled=false in its config\(\), for .*own\.sql\)/,
    );
    expect(reading('SELECT 1 AS x', { 'tests/t.sql': "SELECT * FROM {{ ref('front') }}" })).toThrow(
      /the test t \(.*t\.sql\) refers to ref\('front'\), which is disabled \(enabled: false in .*front\.sql, for .*front\.sql\); enable front, or remove the test\./,
    );
    // A model's data tests read the model switched off as a ref() would: a table left from before.
    expect(
      reading('SELECT 1 AS x', {
        'models/current.yaml': 'columns:\n  x:\n    tests:\n      - relationships: { to: old, field: x }\n',
      }),
    ).toThrow(
      /current's relationships test on x \(.*current\.yaml\) refers to to: old, which is disabled \(models\.shop\.legacy\.\+enabled: false in .*dbt_project\.yml, for .*old\.sql\); enable old, or remove the test\./,
    );
    expect(
      reading('SELECT 1 AS x', {
        'models/current.yaml':
          'tests:\n  - name: in_own\n    sql: "SELECT * FROM {{ this }} WHERE x NOT IN (SELECT x FROM {{ ref(\'own\') }})"\n',
      }),
    ).toThrow(
      /current's test in_own \(.*current\.yaml\) refers to ref\('own'\), which is disabled \(enabled=false in its config\(\), for .*own\.sql\); enable own, or remove the test\./,
    );
    expect(reading('SELECT 1 AS x', { 'models/own.yaml': 'enabled: yes please' })).toThrow(
      /own\.yaml: enabled is "yes please"; it must be true or false\./,
    );
  });

  it('leaves out a seed switched off by enabled: false, as dbt does, and names it where it is read or selected', () => {
    const files = {
      'seeds/plans.csv': 'plan\nfree\n',
      'seeds/plans.yaml': 'enabled: false\n',
      'seeds/legacy/regions.csv': 'region\neu\n',
      'seeds/legacy/_regions.yml': 'version: 2\nseeds:\n  - name: regions\n    config: { enabled: false }\n',
      'seeds/kept.csv': 'x\n1\n',
      'models/m.sql': "SELECT * FROM {{ ref('kept') }}",
    };
    const loaded = project(files).load();
    expect([...loaded.nodes.keys()].sort()).toEqual(['kept', 'm']);
    const graph = buildGraph(loaded.nodes, loaded.disabled);
    expect(() => selectNodes(graph, ['plans'])).toThrow(
      /"plans" names plans, which is switched off \(enabled: false in .*plans\.yaml, for .*plans\.csv\)/,
    );
    expect(selectNodes(graph, [], ['plans', 'legacy'])).toEqual(['kept', 'm']);
    expect(project({ ...files, 'models/m.sql': "SELECT * FROM {{ ref('regions') }}" }).load).toThrow(
      /m \(.*m\.sql\) refers to ref\('regions'\), which is disabled \(enabled: false in .*_regions\.yml \(seed regions\), for .*regions\.csv\); enable regions, or disable m too\./,
    );
    // A column's enabled: is not dbt's either; only a whole model or seed is switched off.
    expect(project({ ...files, 'seeds/kept.yaml': 'columns:\n  x: { enabled: false }\n' }).load).toThrow(
      /Unrecognized key: "enabled" \(dbt's enabled: only a model or a seed as a whole is switched off, with enabled: false in its own configuration; remove it\)/,
    );
  });

  it('takes the built-in model of its name out with a project model switched off, and says what refs it', () => {
    const off = (name: string) => {
      const { dir } = project({ [`models/${name}.sql`]: '{{ config(enabled=false) }}\nSELECT 1 AS x' });
      return () => loadProject({ projectDir: dir, builtin: true });
    };
    const nodes = off('devices_daily')().nodes;
    expect(nodes.has('devices_daily')).toBe(false);
    expect(nodes.has('daily_active_users')).toBe(true);
    expect(off('stg_events')).toThrow(
      /refers to ref\('stg_events'\), which is disabled \(enabled=false in its config\(\)/,
    );
  });

  it('finds a snapshot under snapshot-paths, as under snapshots/', () => {
    const { load } = project({
      'dbt_project.yml': 'snapshot-paths: [history]\n',
      'history/orders_snapshot.sql': '{% snapshot orders_snapshot %}SELECT 1{% endsnapshot %}',
    });
    expect(load).toThrow(/orders_snapshot\.sql: inlet has no snapshots/);
  });
});

describe("dbt's doc blocks", () => {
  it("puts dbt's {% docs %} blocks where a description names {{ doc('name') }}, and names a block that is missing", () => {
    const p = project({
      'models/orders.sql': 'SELECT 1 AS id',
      'models/docs.md':
        '{% docs orders %}\nOne row per order.\n{% enddocs %}\n\n{% docs order_id %}The order.{% enddocs %}',
      'models/schema.yml': [
        'version: 2',
        'models:',
        '  - name: orders',
        '    description: "{{ doc(\'orders\') }}"',
        '    columns:',
        '      - name: id',
        '        description: \'Key: {{ doc("order_id") }}\'',
      ].join('\n'),
    }).load();
    expect(p.nodes.get('orders')?.config).toMatchObject({
      description: 'One row per order.',
      columns: { id: { description: 'Key: The order.' } },
    });
    const { dir, load } = project({
      'models/orders.sql': 'SELECT 1 AS id',
      'models/orders.yaml': 'description: "{{ doc(\'order\') }}"',
    });
    expect(load).toThrow(
      `${join(dir, 'models', 'orders.yaml')} description names {{ doc('order') }}, and no .md file under ${join(dir, 'models')}, ${join(dir, 'seeds')} has {% docs order %}…{% enddocs %}; add the block, or correct the name.`,
    );
  });
});
