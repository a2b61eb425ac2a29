import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  capturedOutput,
  capturingLogger,
  configIn,
  jsonLines,
  runCli,
  tempDir,
  testConfig,
} from '../../test/helpers.ts';
import { busyThreads, inletConfigFile, spawnInlet } from '../../test/inlet-process.ts';
import { writeEvents, writeProjectFile } from '../../test/lake-fixtures.ts';
import { dataLayout } from '../lake/index.ts';
import { createRunHistory } from '../scheduler/index.ts';
import { acquireProcessLock, openStateStore } from '../state/index.ts';
import { ExitCode } from './exit-codes.ts';
import { main } from './main.ts';
import { runCommand } from './run.ts';
import { displayWidth } from './text-width.ts';

const temp = tempDir();
/** The signals that stop a command, and the exit code of each: Ctrl-C's, and a supervisor's. */
const STOPS = [
  ['SIGINT', ExitCode.INTERRUPTED],
  ['SIGTERM', ExitCode.TERMINATED],
] as const;
const configPath = configIn(
  temp.dir,
  [
    'data_dir: ./data',
    'models:',
    '  builtin: false',
    'workflows:',
    '  - name: nightly',
    '    cron: "0 5 * * *"',
    '    steps: [run daily+, test]',
  ].join('\n'),
);
const project = join(temp.dir, 'project');

/** Runs the inlet command in-process with a config; NDJSON output parsed too. */
const cliWith =
  (config: string) =>
  async (...argv: string[]) => {
    const run = await runCli([...argv, '--config', config]);
    return {
      ...run,
      lines: jsonLines(run.out),
    };
  };

/** Runs the inlet command in-process with this test's config. */
const inlet = cliWith(configPath);

/**
 * inlet test <selector> over config, and its workflow check whose one step is test <selector>, with
 * what the selector tests not in the lake yet: one error each, its check named for what is missing.
 */
async function expectNotThereYet(
  selector: string,
  missing: { model: string; name: string; message: string },
  /** Writes what the fresh directory needs; returns the configuration's keys besides models and workflows. */
  setup: (dir: string) => string,
) {
  const fresh = tempDir();
  try {
    const config = configIn(
      fresh.dir,
      `models: { builtin: false }\n${setup(fresh.dir)}workflows:\n  - { name: check, cron: "0 5 * * *", steps: [test ${selector}] }\n`,
    );
    const tested = await cliWith(config)('test', selector);
    expect([tested.code, tested.lines]).toEqual([
      ExitCode.FAILURE,
      [{ ...missing, status: 'error', failures: 0, sample: [] }],
    ]);
    const started = await cliWith(config)('runs', 'start', 'check');
    expect(started.lines[0]).toMatchObject({
      error: `test ${selector}: tests failed: ${missing.model}: ${missing.name}`,
    });
  } finally {
    fresh.cleanup();
  }
}

beforeAll(async () => {
  await writeEvents(dataLayout(join(temp.dir, 'data')), [
    { ts: '2026-11-20T10:00:00Z', name: 'export' },
    { ts: '2026-11-21T10:00:00Z', name: 'export' },
  ]);
  writeProjectFile(
    project,
    'models/daily.sql',
    '/*---\nmaterialized: incremental\ndescription: Events per day.\ncolumns:\n  dt: { tests: [unique] }\n---*/\nSELECT dt, count(*)::INT AS events FROM events WHERE dt BETWEEN {{ from_dt }} AND {{ to_dt }} GROUP BY ALL',
  );
  writeProjectFile(project, 'models/weekly.sql', "SELECT sum(events)::INT AS events FROM {{ ref('daily') }}");
});
afterAll(() => temp.cleanup());

describe('inlet run, test, catalog, docs check, runs', () => {
  it('inlet run builds and prints one result per model; a failure exits 1', async () => {
    const built = await inlet('run');
    expect(built.code).toBe(0);
    expect(built.lines.map((l) => [l.name, l.status, l.mode])).toEqual([
      ['daily', 'success', 'full'],
      ['weekly', 'success', 'full'],
    ]);
    expect(built.err).toMatch(/Done: 2 built, 0 failed, 0 skipped/);
    const backfill = await inlet('run', 'daily', '--from', '2026-11-20', '--to', '2026-11-20');
    expect(backfill.lines[0]).toMatchObject({
      name: 'daily',
      mode: 'partitions',
      partitions: ['2026-11-20'],
    });
    const bad = await inlet('run', '--from', '2026-11-20');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^A backfill needs both --from and --to, as YYYY-MM-DD/);
    // Both given, one not a day: that one is named, not "needs both".
    const notADay = await inlet('run', 'daily', '--from', '2026-11-20', '--to', '26-11-21');
    expect([notADay.code, notADay.err]).toEqual([
      2,
      expect.stringMatching(/^--to must be a day as YYYY-MM-DD, and "26-11-21" is not one\.\ninlet run /),
    ]);
    for (const [from, to] of [
      ['2026-02-30', '2026-03-01'],
      ['2026-11-20', '2026-13-01'],
    ]) {
      // A usage error, as one of the wrong shape is (README.md's exit codes): it exited 1, MODEL_INVALID.
      const impossible = await inlet('run', 'daily', '--from', from, '--to', to);
      expect(impossible.code).toBe(2);
      expect(impossible.lines).toEqual([]);
      expect(impossible.err).toMatch(
        /^--(from|to) must be a day as YYYY-MM-DD, and "2026-(02-30|13-01)" is no day of the calendar\.\ninlet run /,
      );
    }
    // Contradictory arguments are usage errors too (README.md's exit codes): they exited 1, MODEL_INVALID.
    for (const [args, message] of [
      [['--from', '2026-11-21', '--to', '2026-11-20'], '--from 2026-11-21 is after --to 2026-11-20.'],
      [
        ['--from', '2026-11-20', '--to', '2026-11-20', '--full-refresh'],
        'Use --full-refresh to rebuild everything, or --from/--to to rebuild some days, not both.',
      ],
    ] as const) {
      const contradictory = await inlet('run', 'daily', ...args);
      expect([contradictory.code, contradictory.lines]).toEqual([2, []]);
      expect(contradictory.err.startsWith(`${message}\ninlet run `)).toBe(true);
    }
    const unknown = await inlet('run', 'dailyy');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/MODEL_NOT_FOUND: No model or seed matches "dailyy"; did you mean daily\?/);
  });

  it("inlet run and inlet test take dbt's --select / -s and --exclude, with one or more selectors in each", async () => {
    const selected = await inlet('run', '--select', 'daily');
    expect(selected.code).toBe(0);
    expect(selected.lines.map((l) => l.name)).toEqual(['daily']);
    const both = await inlet('run', '-s', 'weekly daily');
    expect(both.lines.map((l) => l.name)).toEqual(['daily', 'weekly']);
    const plus = await inlet('run', '--select', 'daily+');
    expect(plus.lines.map((l) => l.name)).toEqual(['daily', 'weekly']);
    const tested = await inlet('test', '-s', 'daily');
    expect(tested.code).toBe(0);
    expect(tested.lines.map((l) => l.name)).toEqual(['unique(dt)']);
    const excluded = await inlet('run', '--exclude', 'daily');
    expect(excluded.lines.map((l) => l.name)).toEqual(['weekly']);
    const none = await inlet('test', '--exclude', 'daily');
    expect(none.lines).toEqual([]);
    // As dbt reads them (and a workflow's step), the words after --exclude up to the next option
    // are all left out, and those after --select all selected: b was selected alone.
    const union = await inlet('run', '--select', 'weekly', 'daily');
    expect(union.lines.map((l) => l.name)).toEqual(['daily', 'weekly']);
    const neither = await inlet('run', '--exclude', 'weekly', 'daily');
    expect(neither.code).toBe(0);
    expect(neither.lines).toEqual([]);
    const after = await inlet('run', '--exclude', 'weekly', '--full-refresh', 'daily');
    expect(after.lines.map((l) => [l.name, l.mode])).toEqual([['daily', 'full']]);
    const untested = await inlet('test', '--exclude', 'weekly', 'daily');
    expect(untested.lines).toEqual([]);
  });

  it('refuses a selector or table name given empty (inlet run "$MODEL" with MODEL unset), which picked every one', async () => {
    // It was passed over: inlet run --full-refresh "" rebuilt every model, and --exclude "" left out none.
    for (const [argv, said] of [
      [
        ['run', '--full-refresh', ''],
        /^A selector is empty \(an unset variable\?\): name a model, or give no selector/,
      ],
      [['test', ' '], /^A selector is empty/],
      [['ls', 'daily', ''], /^A selector is empty/],
      [['run', '-s', ''], /^--select is empty \(an unset variable\?\): name a model, or leave --select out/],
      [['run', '--select='], /^--select is empty/],
      [
        ['test', '--exclude', ''],
        /^--exclude is empty \(an unset variable\?\): name the models to leave out/,
      ],
      // inlet catalog "$TABLE" listed every table.
      [
        ['catalog', ''],
        /^The table name is empty \(an unset variable\?\): name a table, or give none to list them all\.\ninlet catalog/,
      ],
      // inlet catalog "source:$SOURCE" was told no table is named "source:".
      [
        ['catalog', 'source:'],
        /^The source's name is empty \(an unset variable\?\): name one, as source:crm, or give none to list every table\.\ninlet catalog/,
      ],
    ] as const) {
      const refused = await inlet(...argv);
      expect([refused.code, refused.out, refused.err], argv.join(' ')).toEqual([
        2,
        '',
        expect.stringMatching(said),
      ]);
    }
  });

  it('inlet ls (and list) lists what the selectors pick, as dbt ls does, building nothing', async () => {
    const all = await inlet('ls');
    expect([all.code, all.lines]).toEqual([
      0,
      [
        { name: 'daily', kind: 'model', path: 'models/daily.sql' },
        { name: 'weekly', kind: 'model', path: 'models/weekly.sql' },
      ],
    ]);
    const picked = await inlet('list', '-s', 'daily+', '--exclude', 'daily');
    expect(picked.lines.map((l) => l.name)).toEqual(['weekly']);
    const captured = capturedOutput();
    const terminal = await main(
      ['ls', '+weekly', '--config', configPath],
      { ...captured.output, isTty: true },
      {},
    );
    expect([terminal, captured.out]).toEqual([0, 'daily\nweekly\n']);
    const unknown = await inlet('ls', 'dailyy');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/MODEL_NOT_FOUND: No model or seed matches "dailyy"; did you mean daily\?/);
    // dbt ls's own options say what inlet ls does instead.
    const output = await inlet('ls', '--output', 'json');
    expect([output.code, output.err]).toEqual([
      2,
      "--output is one of dbt's options, which inlet does not take: inlet ls prints a name a line to a terminal and a JSON object a line (name, kind, path) to a pipe: pipe it (inlet ls | cat) for JSON.\n",
    ]);
    expect((await inlet('ls', '--resource-type', 'source')).err).toMatch(
      /^--resource-type is one of dbt's options, which inlet does not take: inlet ls lists the models and seeds/,
    );
  });

  it('inlet ls source:nginx, a log source, points to inlet catalog with the table it writes, as the catalog does', async () => {
    // It said nginx's rows are a table of its own "(access_logs, app_logs)", naming neither the one it
    // writes nor where to look, where inlet catalog source:nginx says inlet catalog access_logs.
    const fresh = tempDir();
    try {
      const config = configIn(
        fresh.dir,
        [
          'models: { builtin: false }',
          'sources:',
          `  - { name: nginx, type: file, path: ${join(fresh.dir, 'access.log')}, format: nginx_combined }`,
          `  - { name: web, type: file, path: ${join(fresh.dir, 'web.log')}, format: nginx_combined, table: web_access }`,
        ].join('\n'),
      );
      writeProjectFile(
        join(fresh.dir, 'project'),
        'models/hits.sql',
        'SELECT count(*) AS n FROM access_logs',
      );
      for (const [selector, source, table] of [
        ['source:nginx', 'nginx', 'access_logs'],
        ['source:web+', 'web', 'web_access'],
      ]) {
        const listed = await cliWith(config)('ls', selector);
        expect([listed.code, listed.err]).toEqual([
          ExitCode.USAGE,
          `MODEL_NOT_FOUND: "${selector}" names no source: ${source} is a log source, whose rows are the table ${table}, read by that name with no source(): inlet catalog ${table} shows it.\n`,
        ]);
      }
    } finally {
      fresh.cleanup();
    }
  });

  it('inlet test runs the data tests', async () => {
    const tested = await inlet('test');
    expect(tested.code).toBe(0);
    expect(tested.lines).toEqual([
      { model: 'daily', name: 'unique(dt)', status: 'pass', failures: 0, sample: [] },
    ]);
  });

  it('inlet run says a failed model once on a terminal, and logs it beside the NDJSON of a pipe', async () => {
    // On a terminal, its table line was followed by the same failure as a JSON log line on stderr.
    const dir = join(temp.dir, 'failing-run');
    // A pipe's log said "model built … status=failed" of a model that failed.
    writeProjectFile(join(dir, 'project'), 'models/broken.sql', 'SELECT no_such_column FROM events');
    writeProjectFile(join(dir, 'project'), 'models/fine.sql', 'SELECT 1 AS one');
    const config = testConfig(join(dir, 'data'), {
      project_dir: join(dir, 'project'),
      models: { builtin: false },
    });
    const run = async (isTty: boolean) => {
      const captured = capturedOutput();
      const { logger, lines } = capturingLogger<{ model?: string; status?: string }>('info');
      const code = await runCommand([], config, logger, { ...captured.output, isTty, columns: 80 });
      const logged = lines.filter((line) => line.model).map((line) => [line.msg, line.model, line.status]);
      return { code, out: captured.out, logged };
    };
    const terminal = await run(true);
    expect(terminal.code).toBe(ExitCode.FAILURE);
    expect(terminal.out).toMatch(/broken/);
    expect(terminal.logged).toEqual([]);
    const piped = await run(false);
    expect(piped.code).toBe(ExitCode.FAILURE);
    expect(piped.logged).toEqual([
      ['model failed', 'broken', 'failed'],
      ['model built', 'fine', 'success'],
    ]);
  });

  it('inlet run and catalog to a pipe log text lines on stderr, as dbt does; INLET_LOG_FORMAT=json logs JSON', async () => {
    // A person running inlet run | tee, or inlet catalog > tables.ndjson, saw pino's JSON records
    // ({"level":50,"time":…,"msg":"model built"}) among the messages on stderr.
    const dir = join(temp.dir, 'log-lines');
    const config = configIn(dir, 'data_dir: ./data\nmodels:\n  builtin: false\n');
    writeProjectFile(join(dir, 'project'), 'models/broken.sql', 'SELECT * FROM nosuch');
    const { INLET_LOG_FORMAT: _format, INLET_LOG_LEVEL: _level, ...env } = process.env;
    const inletWith = async (extra: NodeJS.ProcessEnv, ...args: string[]) => {
      const run = spawnInlet([...args, '--config', config], { ...env, ...extra });
      return { code: await run.exit, err: run.err };
    };
    const run = await inletWith({}, 'run');
    expect(run.code).toBe(ExitCode.FAILURE);
    expect(run.err.split('\n')).toEqual([
      expect.stringMatching(
        /^\d\d:\d\d:\d\d ERROR model failed model=broken status=failed ms=\d+ message="broken reads nosuch, /,
      ),
      expect.stringMatching(/^Failed: 0 built, 1 failed, 0 skipped in /),
      '',
    ]);
    const json = await inletWith({ INLET_LOG_FORMAT: 'json' }, 'run');
    expect(jsonLines(json.err.split('\n')[0] ?? '')).toMatchObject([
      { level: 50, msg: 'model failed', model: 'broken' },
    ]);
    writeProjectFile(join(dir, 'project'), 'models/unreadable.sql', '/*---\nbad: [\n---*/\nSELECT 1');
    const catalog = await inletWith({}, 'catalog');
    expect([catalog.code, catalog.err]).toEqual([
      ExitCode.OK,
      expect.stringMatching(
        /^\d\d:\d\d:\d\d WARN the models project could not be read; the catalog shows the lake only code=MODEL_INVALID error=".*unreadable\.sql: /,
      ),
    ]);
    expect(catalog.err).not.toContain('{');
    // Any other value is refused, as a wrong INLET_LOG_LEVEL is.
    const wrong = await inletWith({ INLET_LOG_FORMAT: 'pretty' }, 'catalog');
    expect([wrong.code, wrong.err]).toEqual([
      ExitCode.CONFIG,
      'INLET_LOG_FORMAT is "pretty", not a log format; set it to json or text, or unset it.\n',
    ]);
  }, 60_000);

  it('inlet catalog on a terminal narrower than its list shows a table at a time, as inlet query does', async () => {
    // Its nine columns and descriptions made lines of some 250 columns, which the terminal wrapped
    // into each other.
    const captured = capturedOutput();
    const terminal = { ...captured.output, isTty: true, columns: 60 };
    expect(await main(['catalog', '--config', configPath], terminal, { INLET_LOG_LEVEL: 'silent' })).toBe(0);
    const lines = captured.out.trimEnd().split('\n');
    expect(lines[0]).toBe(`─[ row 1 ]${'─'.repeat(50)}`);
    expect(lines[1]).toMatch(/^name +│ daily$/);
    expect(Math.max(...lines.map(displayWidth))).toBeLessThanOrEqual(60);
  });

  it('inlet catalog <table> on a terminal narrower than its columns shows a column at a time', async () => {
    // Its column │ type │ description lines ran to some 105 columns, which the terminal wrapped.
    const captured = capturedOutput();
    const terminal = { ...captured.output, isTty: true, columns: 40 };
    const code = await main(['catalog', 'daily', '--config', configPath], terminal, {
      INLET_LOG_LEVEL: 'silent',
    });
    expect(code).toBe(0);
    const columns = captured.out.trimEnd().split('\n\n').at(-1)?.split('\n') ?? [];
    expect(columns.slice(0, 4)).toEqual([
      `─[ row 1 ]${'─'.repeat(30)}`,
      'column      │ dt',
      'type        │ DATE',
      'description │ UTC day of ts; the partit…',
    ]);
    expect(Math.max(...columns.map(displayWidth))).toBeLessThanOrEqual(40);
  });

  it('inlet catalog and inlet catalog <table> on a terminal show what a table lacks as -, not NULL', async () => {
    const captured = capturedOutput();
    const terminal = { ...captured.output, isTty: true, columns: 200 };
    expect(
      await main(['catalog', 'daily', '--config', configPath], terminal, { INLET_LOG_LEVEL: 'silent' }),
    ).toBe(0);
    const columns = captured.out.trimEnd().split('\n\n').at(-1)?.split('\n') ?? [];
    expect(columns.find((line) => line.startsWith('events'))).toMatch(/^events +│ INTEGER +│ -$/);
    expect(captured.out).not.toMatch(/NULL/);
    // The list of tables and views likewise: the events table has no materialization, a view no
    // partitions, and NULL in their cells read as though the catalog had failed.
    const list = capturedOutput();
    expect(
      await main(
        ['catalog', '--config', configPath],
        { ...list.output, isTty: true, columns: 400 },
        {
          INLET_LOG_LEVEL: 'silent',
        },
      ),
    ).toBe(0);
    expect(list.out).toMatch(/^events +│ events +│ - +│/m);
    expect(list.out).not.toMatch(/NULL/);
    // A program still reads null for it.
    const json = await inlet('catalog', 'daily');
    expect(json.lines[0]?.columns).toContainEqual(
      expect.objectContaining({ name: 'events', description: null }),
    );
  });

  /**
   * inlet catalog with argv on a terminal of 400 columns, over a fresh project of the one model
   * file given (built first when build says so): what it printed.
   */
  async function catalogOnTerminal(model: [string, string], build: boolean, ...argv: string[]) {
    const fresh = tempDir();
    try {
      const config = configIn(fresh.dir, 'data_dir: ./data\nmodels: { builtin: false }\n');
      writeProjectFile(join(fresh.dir, 'project'), ...model);
      if (build) expect((await cliWith(config)('run')).code).toBe(ExitCode.OK);
      const captured = capturedOutput();
      const terminal = { ...captured.output, isTty: true, columns: 400 };
      expect(
        await main(['catalog', ...argv, '--config', config], terminal, { INLET_LOG_LEVEL: 'silent' }),
      ).toBe(0);
      return captured.out;
    } finally {
      fresh.cleanup();
    }
  }

  it("inlet catalog on a terminal shows a view's size as -, as it has no files, not as an empty table's 0 B", async () => {
    // A view mart (stg_events on a fresh demo) showed 0 B, which the list says of an empty table.
    const view: [string, string] = ['models/thin.sql', '/*---\nmaterialized: view\n---*/\nSELECT 1 AS x'];
    expect(await catalogOnTerminal(view, true)).toMatch(/^thin +│ model +│ view +│ - +│ - +│/m);
    expect(await catalogOnTerminal(view, true, 'thin')).toMatch(/^ {2}rows - · - · partitions - · /m);
  });

  it('inlet catalog <table> on a terminal says - for the columns of a model none of whose columns can be told', async () => {
    // A model DuckDB cannot describe, whose YAML documents no column, showed a table of no rows,
    // its header alone, under "Its columns are those its YAML documents".
    const page = await catalogOnTerminal(
      ['models/broken.sql', 'SELECT nosuch FROM range(1)'],
      false,
      'broken',
    );
    expect(page).toMatch(/^ {2}tests: -\n {2}columns: -\n$/m);
    expect(page).not.toMatch(/column +│ type/);
  });

  it('inlet catalog lists tables, describes one; inlet docs check lists gaps and exits 0', async () => {
    const list = await inlet('catalog');
    expect(list.lines.map((l) => [l.name, l.kind, l.materialized, l.rows])).toEqual([
      ['daily', 'model', 'incremental', 2],
      ['events', 'events', null, 2],
      ['weekly', 'model', 'table', 1],
    ]);
    // For a program, the size is bytes and the partitions a count and days, not text to read.
    expect(list.lines[0]).toMatchObject({
      partitions: 2,
      first_partition: '2026-11-20',
      last_partition: '2026-11-21',
    });
    expect(list.lines[0]?.bytes).toBeTypeOf('number');
    expect(list.lines[0]).not.toHaveProperty('size');
    const listCsv = (await inlet('catalog', '--format', 'csv')).out.split('\r\n');
    expect(listCsv[0]).toBe(
      'name,kind,materialized,rows,bytes,partitions,first_partition,last_partition,updated_at,description,unavailable,built',
    );
    expect(listCsv[1]).toMatch(/^daily,model,incremental,2,\d+,2,2026-11-20,2026-11-21,/);
    const one = await inlet('catalog', 'weekly');
    expect(one.lines[0]).toMatchObject({ name: 'weekly', upstream: ['daily', 'events'] });
    const csv = await inlet('catalog', 'daily', '--format', 'csv');
    expect(csv.code).toBe(0);
    expect(csv.out).toBe(
      'column,type,description,description_from,columns_note\r\n' +
        'dt,DATE,UTC day of ts; the partition.,events,\r\n' +
        'events,INTEGER,,,\r\n',
    );
    const docs = await inlet('docs', 'check');
    expect(docs.code).toBe(0);
    expect(docs.lines).toEqual([
      { table: 'daily', column: 'events' },
      { table: 'weekly' },
      { table: 'weekly', column: 'events' },
    ]);
    expect(docs.err).toMatch(/3 missing descriptions/);
  });

  it("says a model tested before it was built is not built, in inlet test and in a workflow run's error", async () => {
    // The run's error said 'tests failed: fresh: built', a check named built that read as the opposite.
    // It said to run inlet run fresh first, also to one who had, whose build's tests had failed, so
    // that it was not published: it sent them round in a loop.
    await expectNotThereYet(
      'fresh',
      {
        model: 'fresh',
        name: 'not built',
        message:
          'fresh has not been built; run inlet run fresh first (a build whose tests fail is not published: inlet run names the tests that failed)',
      },
      (dir) => {
        writeProjectFile(join(dir, 'project'), 'models/fresh.sql', 'SELECT 1 AS n');
        return '';
      },
    );
  });

  it("says a source's table tested before it was synced is not synced, in inlet test and in a workflow run's error", async () => {
    // Its check was named 'synced', so a workflow's error read 'tests failed: crm.orders: synced'.
    await expectNotThereYet(
      'source:crm',
      {
        model: 'crm.orders',
        name: 'not synced',
        message: 'crm.orders is not in the lake yet; run inlet sync crm first',
      },
      (dir) => {
        writeFileSync(join(dir, 'orders.csv'), 'id\n1\n');
        writeProjectFile(
          join(dir, 'project'),
          'models/sources.yml',
          'version: 2\nsources:\n  - name: crm\n    tables:\n      - name: orders\n        columns:\n          - { name: id, tests: [not_null] }\n',
        );
        return 'sources:\n  - { name: crm, type: csv, tables: [{ path: orders.csv }] }\n';
      },
    );
  });

  it('inlet catalog shows the built-in models as reading events on a fresh install, before any is built', async () => {
    // stg_events reads FROM events; the link was shown only once it had been built.
    const fresh = tempDir();
    try {
      const config = configIn(fresh.dir, 'data_dir: ./data\n');
      await writeEvents(dataLayout(join(fresh.dir, 'data')), [{ ts: '2026-11-20T10:00:00Z', name: 'login' }]);
      const events = await cliWith(config)('catalog', 'events', '--format', 'json');
      expect(events.code).toBe(0);
      expect(events.lines[0]?.downstream).toEqual(
        expect.arrayContaining(['stg_events', 'daily_active_users']),
      );
      expect((await cliWith(config)('catalog', 'events')).out).toMatch(/stg_events/);
    } finally {
      fresh.cleanup();
    }
  });

  it('inlet catalog <model> describes a model not built yet on a fresh install, where it said NOT_FOUND "No table or view"', async () => {
    const fresh = tempDir();
    try {
      const inletHere = cliWith(configIn(fresh.dir, 'data_dir: ./data\n'));
      const json = await inletHere('catalog', 'stg_events', '--format', 'json');
      expect(json.code).toBe(0);
      expect(json.lines[0]).toMatchObject({
        name: 'stg_events',
        built: false,
        rows: null,
        updated_at: null,
        upstream: ['events'],
        description: expect.stringContaining('not from a bot'),
        sql: expect.stringContaining('FROM events'),
      });
      // It reads stg_events, not built either: its columns are as DuckDB describes its SQL over
      // stg_events's, where they were those its YAML documents, with type null.
      const dau = await inletHere('catalog', 'daily_active_users', '--format', 'json');
      expect(dau.lines[0]?.columns).toContainEqual(
        expect.objectContaining({ name: 'users', type: 'INTEGER', description: expect.any(String) }),
      );
      expect(dau.lines[0]).not.toHaveProperty('columns_note');
      const page = await inletHere('catalog', 'stg_events', '--format', 'table');
      expect(page.code).toBe(0);
      expect(page.out).toContain(
        'NOT BUILT YET: no rows and no freshness until inlet run stg_events builds it',
      );
      // The list has it too, as dbt's docs list every model: it listed the built tables alone.
      const list = await inletHere('catalog', '--format', 'json');
      expect(list.code).toBe(0);
      expect(list.lines.find((l) => l.name === 'events')).toMatchObject({ built: true });
      expect(list.lines.find((l) => l.name === 'stg_events')).toMatchObject({
        kind: 'model',
        rows: null,
        bytes: 0,
        partitions: 0,
        updated_at: null,
        description: expect.stringContaining('not from a bot'),
        built: false,
      });
      const listCsv = (await inletHere('catalog', '--format', 'csv')).out.split('\r\n');
      expect(listCsv.find((line) => line.startsWith('stg_events,'))).toMatch(/,false$/);
      const terminal = await inletHere('catalog', '--format', 'table');
      // Nor a size: it has no files, where 0 B said an empty table.
      expect(terminal.out).toMatch(/^stg_events +│ model +│ \w+ +│ not built yet +│ - +│ - +│ - +│/m);
      const missing = await inletHere('catalog', 'stg_event');
      expect(missing.code).toBe(ExitCode.USAGE);
      expect(missing.err).toMatch(
        /No table, view or model named "stg_event"; the lake has .*not built yet: .*stg_events/,
      );
    } finally {
      fresh.cleanup();
    }
  });

  it("inlet catalog <model> says under NOT BUILT YET why a model's columns are only its YAML's, and a pipe gets it as columns_note", async () => {
    const fresh = tempDir();
    try {
      const config = configIn(fresh.dir, 'data_dir: ./data\nmodels:\n  builtin: false\n');
      await writeEvents(dataLayout(join(fresh.dir, 'data')), [{ ts: '2026-11-20T10:00:00Z', name: 'login' }]);
      writeProjectFile(
        join(fresh.dir, 'project'),
        'models/broken.sql',
        '/*---\ncolumns:\n  n: { description: "Documented." }\n---*/\nSELECT no_such_column AS n FROM events',
      );
      const note =
        /^Its columns are those its YAML documents, of a type not known yet: DuckDB cannot describe its SQL \(.*no_such_column.*\); inlet run broken says what is wrong\.$/;
      const captured = capturedOutput();
      const terminal = { ...captured.output, isTty: true, columns: 200 };
      expect(
        await main(['catalog', 'broken', '--config', config], terminal, { INLET_LOG_LEVEL: 'silent' }),
      ).toBe(0);
      const [page = '', columns = ''] = captured.out.trimEnd().split('\n\n');
      const lines = page.split('\n');
      const notBuilt = lines.findIndex((line) => line.startsWith('  NOT BUILT YET: '));
      expect(notBuilt).toBeGreaterThan(0);
      // The reason comes right under NOT BUILT YET, on one line of its own.
      expect(lines[notBuilt + 1]?.slice(2)).toMatch(note);
      expect(lines[notBuilt + 2]).toBe('  upstream: events');
      expect(columns.split('\n').at(-1)).toMatch(/^n +│ - +│ Documented\.$/);
      const piped = await cliWith(config)('catalog', 'broken');
      expect(piped.code).toBe(0);
      expect(piped.lines[0]).toMatchObject({ built: false, columns: [{ name: 'n', type: null }] });
      expect(piped.lines[0]?.columns_note).toMatch(note);
      // As CSV, one row a column: each carries the note in a columns_note column, as the JSON carries it.
      const csv = await cliWith(config)('catalog', 'broken', '--format', 'csv');
      expect(csv.code).toBe(0);
      const quoted = `"${String(piped.lines[0]?.columns_note).replaceAll('"', '""')}"`;
      expect(csv.out).toBe(
        `column,type,description,description_from,columns_note\r\nn,,Documented.,,${quoted}\r\n`,
      );
      expect(csv.err).toBe('');
      // With no column its YAML documents there is no row to carry it: it is said on stderr, as a note.
      writeProjectFile(
        join(fresh.dir, 'project'),
        'models/bare.sql',
        'SELECT no_such_column AS n FROM events',
      );
      const bare = await cliWith(config)('catalog', 'bare', '--format', 'csv');
      expect(bare.code).toBe(0);
      expect(bare.out).toBe('column,type,description,description_from,columns_note\r\n');
      expect(bare.err).toMatch(
        /^note: Its columns are those its YAML documents, of a type not known yet: DuckDB cannot describe its SQL \(.*no_such_column.*\); inlet run bare says what is wrong\.\n$/,
      );
    } finally {
      fresh.cleanup();
    }
  });

  it('inlet runs start without a name lists the workflows it can start, not one since removed', async () => {
    // A workflow with runs but no longer configured was offered, and inlet runs start said NOT_FOUND of it.
    const fresh = tempDir();
    try {
      const workflows = (names: string[]) =>
        configIn(
          fresh.dir,
          `models: { builtin: false }\nworkflows:\n${names.map((name) => `  - { name: ${name}, cron: "0 5 * * *", steps: [run fresh] }\n`).join('')}`,
        );
      writeProjectFile(join(fresh.dir, 'project'), 'models/fresh.sql', 'SELECT 1 AS n');
      const config = workflows(['hourly', 'check']);
      expect((await cliWith(config)('runs', 'start', 'hourly')).code).toBe(ExitCode.OK);
      workflows(['check']);
      const refused = await cliWith(config)('runs', 'start');
      expect([refused.code, refused.err.split('\n')[0]]).toEqual([
        ExitCode.USAGE,
        "inlet runs start needs a workflow's name (an unset variable?); workflows: check.",
      ]);
      // The list of runs still knows it, by its runs.
      expect((await cliWith(config)('runs', '--workflow', 'hourly')).lines).toHaveLength(1);
    } finally {
      fresh.cleanup();
    }
  });

  it('inlet runs start runs a workflow now; inlet runs lists and shows it', async () => {
    // daily built before, as the tests before this one leave it: the run's step builds its new
    // partitions (the step's log names them), where run alone it showed a first, full build.
    expect((await inlet('run', 'daily')).code).toBe(0);
    const started = await inlet('runs', 'start', 'nightly');
    expect(started.code).toBe(0);
    expect(started.lines[0]).toMatchObject({ workflow: 'nightly', trigger: 'manual', status: 'success' });
    const list = await inlet('runs');
    expect(list.lines).toMatchObject([{ workflow: 'nightly', status: 'success', trigger: 'manual' }]);
    // A program reads the run's time as inlet runs <id> --format json gives it: whole milliseconds.
    expect(Number.isInteger(list.lines[0]?.duration_ms)).toBe(true);
    expect(list.lines[0]).not.toHaveProperty('seconds');
    const listCsv = (await inlet('runs', '--format', 'csv')).out.split('\r\n');
    expect(listCsv[0]).toBe('id,workflow,scheduled_for,trigger,status,started_at,duration_ms,error');
    expect(listCsv[1]).toMatch(/^\d+,nightly,,manual,success,[^,]+,\d+,$/);
    const listed = await inlet('runs', '--format', 'table');
    expect(listed.out.split('\n')[0]).toMatch(/│ seconds │/);
    // A manual run has no scheduled time and a run that succeeded no error: the table said NULL for
    // both, where inlet runs <id> and inlet catalog say -.
    expect(listed.out.split('\n')[2]).toMatch(
      /│ nightly +│ - +│ manual +│ success +│ [^│]+│ [\d.]+ +│ -\s*$/,
    );
    const misspelt = await inlet('runs', '--status', 'sucess');
    expect(misspelt.code).toBe(2);
    expect(misspelt.err).toBe(
      '--status sucess is not a run status; use one of running, success, failed, timed_out, stopped, abandoned.\n',
    );
    // A workflow's name where a run id goes: the usage alone did not say what was wrong.
    const named = await inlet('runs', 'nightly');
    expect([named.code, named.err]).toEqual([
      2,
      '"nightly" is not a run id (a whole number); inlet runs --workflow nightly lists the runs of a workflow.\n',
    ]);
    const newest = Number(list.lines[0]?.id);
    const unknown = await inlet('runs', String(newest + 1000));
    expect([unknown.code, unknown.err]).toEqual([
      2,
      `NOT_FOUND: No run has id ${newest + 1000}; the newest run is ${newest} (inlet runs lists them).\n`,
    ]);
    // Digits past 2^53 are named as typed, not as the number they round to.
    const huge = await inlet('runs', '99999999999999999999');
    expect([huge.code, huge.err]).toEqual([
      2,
      `NOT_FOUND: No run has id 99999999999999999999; the newest run is ${newest} (inlet runs lists them).\n`,
    ]);
    const shown = await inlet('runs', String(list.lines[0]?.id));
    expect(shown.lines[0]).toMatchObject({
      steps: [
        {
          step: 'run daily+',
          status: 'success',
          log: expect.stringMatching(/ok {10}daily \(\d+ partitions\)[\s\S]*ok {10}weekly/),
        },
        { step: 'test', status: 'success' },
      ],
    });
    // --format is kept for one run too: it printed JSON to every pipe.
    const text = await inlet('runs', String(list.lines[0]?.id), '--format', 'table');
    expect(text.out).toMatch(/^Run \d+ of nightly: success in [\d.]+ s\n[\s\S]*\[success\] run daily\+/);
    const csv = await inlet('runs', String(list.lines[0]?.id), '--format', 'csv');
    expect(csv.out.split('\r\n')[0]).toBe('run,position,step,status,attempts,duration_ms,error,log');
    expect(csv.out).toMatch(/^\d+,1,test,success,1,\d+,/m);
  });

  it('inlet runs shows the run of a process that died as abandoned, with no scheduler running', async () => {
    // What inlet runs start killed with SIGKILL leaves, long ago: a run that never finished.
    const state = openStateStore(join(temp.dir, 'data', 'state.sqlite'));
    const history = createRunHistory(state);
    const id = history.claim({ workflow: 'nightly', scheduledFor: null, trigger: 'manual', owner: 'gone:1' });
    history.start(id as number);
    history.startStep(id as number, 0, 'run daily+');
    const then = new Date(Date.now() - 3_600_000).toISOString();
    state.db
      .prepare('UPDATE workflow_runs SET started_at = ?, heartbeat_at = ? WHERE id = ?')
      .run(then, then, id);
    state.db.prepare('UPDATE workflow_run_steps SET started_at = ? WHERE run_id = ?').run(then, id);
    state.close();
    const shown = await inlet('runs', String(id));
    // Killed before its first heartbeat: it showed as "abandoned in 0 s", a time nobody knew.
    expect(shown.lines[0]).toMatchObject({
      status: 'abandoned',
      duration_ms: null,
      error: expect.stringContaining('so how long the run went on is not known'),
      steps: [{ step: 'run daily+', status: 'failed', duration_ms: null }],
    });
    const text = await inlet('runs', String(id), '--format', 'table');
    expect(text.out).toMatch(new RegExp(`^Run ${id} of nightly: abandoned, how long it ran is not known\n`));
    const later = new Date(Date.parse(then) + 42_000).toISOString();
    /** A manual run of nightly by a process gone, started at started_at, last heard from at heard_at. */
    const claimGone = (started_at: string | null, heard_at: string) => {
      const store = openStateStore(join(temp.dir, 'data', 'state.sqlite'));
      const claimed = createRunHistory(store).claim({
        workflow: 'nightly',
        scheduledFor: null,
        trigger: 'manual',
        owner: 'gone:1',
      }) as number;
      store.db
        .prepare('UPDATE workflow_runs SET started_at = ?, heartbeat_at = ? WHERE id = ?')
        .run(started_at, heard_at, claimed);
      store.close();
      return claimed;
    };
    const heard = claimGone(then, later);
    expect((await inlet('runs', String(heard), '--format', 'table')).out).toMatch(
      new RegExp(`^Run ${heard} of nightly: abandoned, last heard from 42 s after it started\n`),
    );
    // One that waited its turn and never started did not run at all: it said "how long it ran is
    // not known".
    const unstarted = claimGone(null, then);
    expect((await inlet('runs', String(unstarted), '--format', 'table')).out).toMatch(
      new RegExp(`^Run ${unstarted} of nightly: abandoned before it started\n`),
    );
  });

  it('inlet run stopped by Ctrl-C exits 130, and by SIGTERM 143, as a shell reads a command a signal ended, and its summary says stopped', async () => {
    // It exited 1, as for a model that failed, so a script could not tell a stop from a failure;
    // SIGTERM (docker stop, timeout(1)) killed it mid-build.
    const dir = join(temp.dir, 'interrupted');
    const config = configIn(dir, 'data_dir: ./data\nmodels:\n  builtin: false\n');
    writeProjectFile(
      join(dir, 'project'),
      'models/slow.sql',
      'SELECT count(*) AS n FROM range(100000000000) t(i) WHERE i % 7 = 3',
    );
    for (const [signal, code] of STOPS) {
      const run = spawnInlet(['run', '--config', config]);
      // Its build lock is there while the model builds.
      while (!existsSync(join(dir, 'data', 'state', 'locks', 'model-slow.lock'))) {
        if (run.child.exitCode !== null) throw new Error(`inlet run exited:\n${run.err}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      // A stop between taking the lock and starting the query is heard too (it was not until the
      // query ended, as DuckDB's interrupt stops only a query that is running).
      run.child.kill(signal);
      // A stop not heard must not leave the query running for minutes after the test.
      const stopped = setTimeout(() => run.child.kill('SIGKILL'), 20_000);
      expect(await run.exit, run.err).toBe(code);
      clearTimeout(stopped);
      // It said "Failed: 0 built, 1 failed, 0 skipped", as for a model's own failure.
      expect(run.err).toMatch(/^Stopped: 0 built, 1 stopped, 0 failed, 0 skipped in /m);
      // As README has it, and as inlet test and runs start say: the failed count alone read as a
      // model's fault, with no word that the signal had stopped the run.
      expect(run.err).toMatch(
        new RegExp(
          `^inlet run stopped: ${signal === 'SIGINT' ? 'Ctrl-C \\(SIGINT\\)' : 'SIGTERM'} came before it finished\\.\n$`,
          'm',
        ),
      );
      expect(jsonLines(run.out)).toMatchObject([{ name: 'slow', status: 'failed', message: 'stopped' }]);
      // The stop broke the model's query: an ERROR "model failed" line said the model was at fault.
      expect(run.err).not.toMatch(/ ERROR model failed /);
      expect(run.err).toMatch(/^\d\d:\d\d:\d\d WARN model stopped model=slow status=failed /m);
    }
  }, 60_000);

  /**
   * inlet <command> run in-process, stopped by each of STOPS as the project's warning is said (before
   * the views are refreshed, so at the same point each time): the signal's listener the command added,
   * not the test runner's, is called as the signal would. Each check passes or fails as it would.
   */
  async function stoppedAtWarning(command: string, config: string) {
    for (const [signal, code] of STOPS) {
      const before = process.listeners(signal);
      const captured = capturedOutput();
      const output = {
        ...captured.output,
        err: (text: string) => {
          captured.output.err(text);
          if (text.startsWith('Warning:'))
            for (const listener of process.listeners(signal))
              if (!before.includes(listener)) listener(signal);
        },
      };
      expect(
        await main([command, '--config', config], output, { INLET_LOG_LEVEL: 'silent' }),
        captured.err,
      ).toBe(code);
      expect(captured.err).toContain(
        `inlet ${command} stopped: ${signal === 'SIGINT' ? 'Ctrl-C (SIGINT)' : 'SIGTERM'} came before it finished.\n`,
      );
      expect(captured.err).not.toContain('did not foresee');
      expect(process.listeners(signal)).toEqual(before);
      expect(captured.out).toBe('');
    }
  }

  it('inlet run stopped while it refreshes its views says it stopped and exits 130 or 143, not 5', async () => {
    // The stop broke the refresh under way ("INTERRUPT Error: Interrupted!"), which was printed as
    // an error inlet did not foresee, exit 5.
    const dir = join(temp.dir, 'stopped-refresh');
    const config = configIn(dir, 'data_dir: ./data\nmodels:\n  builtin: false\n');
    await writeEvents(dataLayout(join(dir, 'data')), [{ ts: '2026-10-01T10:00:00Z', name: 'opened' }]);
    writeProjectFile(
      join(dir, 'project'),
      'models/daily.sql',
      '/*---\ndocs: { show: false }\n---*/\nSELECT count(*) AS n FROM events',
    );
    await stoppedAtWarning('run', config);
  });

  it('inlet test stopped by Ctrl-C or SIGTERM says it stopped and exits 130 or 143, as inlet run does', async () => {
    // It listened for neither: the tests ran to their end and it exited 0 ("1 passed"), or Node's
    // own handler killed it with no word of what had stopped; the engine's own listener only
    // interrupted a statement under way, so a stop between two waited for the next to end.
    const dir = join(temp.dir, 'stopped-test');
    const config = configIn(dir, 'data_dir: ./data\nmodels:\n  builtin: false\n');
    writeProjectFile(
      join(dir, 'project'),
      'models/daily.sql',
      '/*---\ndocs: { show: false }\n---*/\nSELECT 1 AS n',
    );
    writeProjectFile(join(dir, 'project'), 'tests/none.sql', "SELECT * FROM {{ ref('daily') }} WHERE n < 0");
    expect((await cliWith(config)('run')).code).toBe(0);
    await stoppedAtWarning('test', config);
    // Not stopped, the same tests pass.
    const passed = await cliWith(config)('test');
    expect([passed.code, passed.err]).toEqual([0, expect.stringContaining('1 passed, 0 failed.')]);
  });

  it('inlet test stopped by Ctrl-C in the middle of a slow data test stops it at once and exits 130', async () => {
    // Checked by hand only: the in-process test above stops before the views are refreshed, not in a
    // query DuckDB is running, which only DuckDB's interrupt ends.
    const dir = join(temp.dir, 'stopped-slow-test');
    const config = configIn(dir, 'data_dir: ./data\nmodels:\n  builtin: false\n');
    writeProjectFile(join(dir, 'project'), 'models/daily.sql', 'SELECT 1 AS n');
    // Built before the slow test is written: inlet run tests what it builds.
    expect((await cliWith(config)('run')).code).toBe(0);
    writeProjectFile(
      join(dir, 'project'),
      'tests/slow.sql',
      "SELECT * FROM (SELECT count(*) AS c FROM range(100000000000) t(i) WHERE i % 7 = 3), {{ ref('daily') }} WHERE c < 0",
    );
    const tested = spawnInlet(['test', '--config', config]);
    await busyThreads(tested.child.pid as number);
    tested.child.kill('SIGINT');
    // A stop not heard must not leave the query running for minutes after the test.
    const unheard = setTimeout(() => tested.child.kill('SIGKILL'), 30_000);
    const code = await tested.exit;
    clearTimeout(unheard);
    expect([code, tested.err]).toEqual([
      ExitCode.INTERRUPTED,
      expect.stringContaining('inlet test stopped: Ctrl-C (SIGINT) came before it finished.\n'),
    ]);
    expect(tested.err).not.toContain('did not foresee');
    expect(tested.out).toBe('');
  }, 60_000);

  it.each(STOPS)(
    'inlet runs start stopped by %s records its run as stopped, not running or failed, and exits %i',
    async (signal, code) => {
      // SIGTERM is what a supervisor, docker stop or timeout(1) sends. Only Ctrl-C was heard: the
      // process died at once and its run showed as running, then abandoned, as if it had crashed.
      // Either then exited 1, as a failed run does, where inlet run and inlet sync exit 130 or 143.
      // Then it was recorded failed, though its retry never came: stopped, it says so.
      const dir = join(temp.dir, `stopped-${signal}`);
      const { config } = await inletConfigFile(
        dir,
        [
          'sources:',
          '  - { name: crm, type: csv, tables: [{ path: missing.csv }] }',
          'workflows:',
          '  - { name: pull, cron: "0 5 * * *", steps: [sync crm], retries: 1, retry_backoff: 1h }',
        ].join('\n'),
      );
      const started = spawnInlet(['runs', 'start', 'pull', '--config', config]);
      const state = openStateStore(join(dir, 'data', 'state.sqlite'));
      const history = createRunHistory(state);
      // Waiting out its back-off, an hour long, when it is told to stop.
      while (!history.get(1)?.steps[0]?.log.includes('retrying in')) {
        if (started.child.exitCode !== null) throw new Error(`inlet runs start exited:\n${started.err}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      started.child.kill(signal);
      expect(await started.exit, started.err).toBe(code);
      expect(started.err).toContain(
        `inlet runs start stopped: ${signal === 'SIGINT' ? 'Ctrl-C (SIGINT)' : 'SIGTERM'} came before it finished.\n`,
      );
      expect(started.out).toContain('"status":"stopped"');
      expect(history.get(1)).toMatchObject({
        status: 'stopped',
        error: 'sync crm: inlet stopped while the run was going',
        steps: [{ step: 'sync crm', status: 'stopped' }],
      });
      state.close();
    },
  );

  it('inlet runs start stopped while it waits for the run of another process records no step as attempted', async () => {
    // Stopped while another process held its workflow, the run went on to its first step, which it
    // recorded stopped after 1 attempt though it never started, and the run as started.
    const dir = join(temp.dir, 'stopped-waiting');
    const { config } = await inletConfigFile(
      dir,
      [
        'sources:',
        '  - { name: crm, type: csv, tables: [{ path: plans.csv }] }',
        'workflows:',
        '  - { name: pull, cron: "0 5 * * *", steps: [sync crm] }',
      ].join('\n'),
    );
    const locks = join(dir, 'data', 'state', 'locks');
    mkdirSync(locks, { recursive: true });
    // The workflow's lock, left by a run whose process is gone, is being taken over by another
    // process (this one): inlet runs start, which saw no run going, waits its turn.
    const gone = spawnSync(process.execPath, ['-e', '']).pid;
    writeFileSync(join(locks, 'workflow-pull.lock'), `${gone} ${hostname()}\n`);
    const takingOver = acquireProcessLock(
      join(locks, 'workflow-pull.lock.takeover'),
      () => new Error('busy'),
    );
    try {
      const started = spawnInlet(['runs', 'start', 'pull', '--config', config]);
      const state = openStateStore(join(dir, 'data', 'state.sqlite'));
      const history = createRunHistory(state);
      // Claimed, its signal listeners are set (in the same turn of the event loop).
      while (history.get(1) === undefined) {
        if (started.child.exitCode !== null) throw new Error(`inlet runs start exited:\n${started.err}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      started.child.kill('SIGTERM');
      expect(await started.exit, started.err).toBe(ExitCode.TERMINATED);
      const waited = 'inlet stopped while the run waited its turn to start';
      expect(history.get(1)).toMatchObject({
        status: 'stopped',
        started_at: null,
        duration_ms: null,
        error: waited,
        steps: [],
      });
      expect(JSON.parse(started.out)).toMatchObject({ status: 'stopped', error: waited, steps: [] });
      state.close();
      const shown = await runCli(['runs', '1', '--format', 'table', '--config', config]);
      expect(shown.out).toBe(
        `Run 1 of pull: stopped before it started\n  manual, by ${hostname()}:${started.child.pid}, started -\n  error: ${waited}\n`,
      );
    } finally {
      takingOver.release();
    }
  });

  it('inlet runs pages to older runs with --before, and says how to see more', async () => {
    // Two runs of its own: counting the runs the tests before it left, it failed when run alone.
    const own = tempDir();
    try {
      const inlet = cliWith(
        configIn(
          own.dir,
          'data_dir: ./data\nmodels: { builtin: false }\nworkflows:\n  - { name: nightly, cron: "0 5 * * *", steps: [test] }\n',
        ),
      );
      for (let run = 0; run < 2; run++)
        expect((await inlet('runs', 'start', 'nightly')).code).toBe(ExitCode.OK);
      const all = await inlet('runs', '--workflow', 'nightly');
      expect(all.lines.length).toBe(2);
      const [newest, oldest] = all.lines.map((l) => l.id);
      expect(all.err).toBe('');
      const first = await inlet('runs', '--workflow', 'nightly', '--limit', '1');
      expect(first.lines.map((l) => l.id)).toEqual([newest]);
      expect(first.err).toBe(`More: inlet runs --workflow nightly --limit 1 --before ${newest}\n`);
      const second = await inlet('runs', '--workflow', 'nightly', '--limit', '1', '--before', String(newest));
      expect(second.lines.map((l) => l.id)).toEqual([oldest]);
      expect(second.err).toBe('');
      const misspelt = await inlet('runs', '--workflow', 'nighly');
      expect(misspelt.code).toBe(2);
      expect(misspelt.err).toBe(
        '--workflow nighly names no workflow that is configured or has runs; workflows: nightly.\n',
      );
      for (const [argv, said] of [
        [
          ['runs', 'start'],
          "inlet runs start needs a workflow's name (an unset variable?); workflows: nightly.\n",
        ],
        [
          ['runs', 'start', ''],
          "inlet runs start needs a workflow's name (an unset variable?); workflows: nightly.\n",
        ],
        [['runs', 'start', 'nightly', 'weekly'], 'inlet runs start takes one workflow, not also "weekly".\n'],
      ] as const) {
        const refused = await inlet(...argv);
        expect([refused.code, refused.err.startsWith(said)], argv.join(' ')).toEqual([2, true]);
      }
      // --workflow "$WORKFLOW" with WORKFLOW unset listed the runs of every workflow.
      const empty = await inlet('runs', '--workflow', '');
      expect([empty.code, empty.out, empty.err]).toEqual([
        2,
        '',
        '--workflow is empty (an unset variable?): name a workflow (nightly), or leave --workflow out to list the runs of all of them.\n',
      ]);
      const bad = await inlet('runs', '--before', 'last');
      expect(bad.code).toBe(2);
      expect(bad.err).toBe('--before last is not a run id; give the id of a run (a whole number above 0).\n');
      // The list's filters with one run: inlet runs <id> --status failed showed a run that succeeded.
      const filtered = await inlet('runs', String(newest), '--status', 'failed');
      expect([filtered.code, filtered.out, filtered.err]).toEqual([
        2,
        '',
        `inlet runs ${newest} shows one run, and --status is for the list of runs (inlet runs --status …); leave it out.\n`,
      ]);
      const started = await inlet('runs', 'start', 'nightly', '--limit', '1', '--before', '1');
      expect([started.code, started.err]).toEqual([
        2,
        'inlet runs start nightly runs a workflow, and --limit and --before are for the list of runs (inlet runs --limit …); leave them out.\n',
      ]);
      expect((await inlet('runs', '--workflow', 'nightly')).lines.length).toBe(2);
    } finally {
      own.cleanup();
    }
  });
});

describe("dbt's --vars, and dbt's other options", () => {
  const own = tempDir();
  const cli = cliWith(configIn(own.dir, 'data_dir: ./data\nmodels:\n  builtin: false\n'));
  beforeAll(() => {
    const dir = join(own.dir, 'project');
    writeProjectFile(dir, 'dbt_project.yml', 'name: shop\nvars:\n  plan: free\n');
    writeProjectFile(
      dir,
      'models/plans.sql',
      "/*---\ndescription: The plan asked for.\ncolumns:\n  plan: { description: The plan., tests: [{ accepted_values: { values: [free, team] } }] }\n  seats: The seats.\n---*/\nSELECT '{{ var('plan') }}' AS plan, {{ var('seats') }} AS seats",
    );
  });
  afterAll(() => own.cleanup());

  it('inlet run, test, docs check and catalog take --vars over dbt_project.yml; a var set nowhere is named', async () => {
    const missing = await cli('run');
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(
      /MODEL_INVALID: .*plans\.sql line 7: \{\{ var\('seats'\) \}\} has no value; set seats under vars: in .*dbt_project\.yml, pass it with --vars '\{seats: …\}'/,
    );
    const built = await cli('run', '--vars', '{seats: 3}');
    expect([built.code, built.lines.map((l) => [l.name, l.status])]).toEqual([0, [['plans', 'success']]]);
    const tested = await cli('test', '--vars', '{"seats": 3, "plan": "team"}');
    expect([tested.code, tested.lines.map((l) => l.status)]).toEqual([0, ['pass']]);
    const docs = await cli('docs', 'check', '--vars', 'seats: 3');
    expect([docs.code, docs.lines, docs.err]).toEqual([0, [], 'Every mart and column has a description.\n']);
    const catalog = await cli('catalog', 'plans', '--format', 'csv', '--vars', '{seats: 3}');
    expect(catalog.out).toContain('seats,INTEGER,The seats.');
    const bad = await cli('run', '--vars', '[3]');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(
      /^--vars must be a map of names to values, such as --vars '\{start_date: "2026-01-01"\}'\ninlet run/,
    );
    // A tag YAML does not know, which dbt's YAML refuses too: one message of inlet's, where Node printed
    // a YAMLWarning and the value ran as text.
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    const tagged = await cli('run', '--vars', '{a: !!js/function x}');
    await new Promise((resolve) => setImmediate(resolve));
    process.off('warning', onWarning);
    expect([tagged.code, tagged.out, warnings.map((w) => w.message)]).toEqual([2, '', []]);
    expect(tagged.err).toMatch(
      /^--vars: the tag !!js\/function \(line 1, column 5\) is not one YAML knows; quote the value to pass it as text\.\ninlet run/,
    );
    // YAML that parses, with a key dbt refuses: said as what it is, where it said "is not YAML or JSON".
    const listKey = await cli('run', '--vars', '{[a]: 1}');
    expect([listKey.code, listKey.out, listKey.err.split('\n')[0]]).toEqual([
      2,
      '',
      '--vars: the key [a] (line 1, column 2) is a list or a map; a key must be a name, such as a: 1.',
    ]);
    // A set rendered as {}, bytes as a SQL syntax error.
    const set = await cli('run', '--vars', '{a: !!set {x}}');
    expect([set.code, set.err.split('\n')[0]]).toEqual([
      2,
      '--vars: the tag !!set (line 1, column 5) makes a set, which inlet does not render as dbt does; write a list, a map or text instead.',
    ]);
    // A syntax error is one, without the colon yaml ends its first line with.
    const open = await cli('run', '--vars', '{a: 1');
    expect([open.code, open.err.split('\n')[0]]).toEqual([
      2,
      '--vars is not YAML or JSON: Flow map must end with a } at line 1, column 6',
    ]);
    // Nested thousands deep, it said "Maximum call stack size exceeded at line 1, column 3149".
    const deep = await cli('run', '--vars', `${'{a: '.repeat(3000)}1${'}'.repeat(3000)}`);
    expect([deep.code, deep.err.split('\n')[0]]).toEqual([
      2,
      expect.stringMatching(
        /^--vars is not YAML or JSON: lists or maps nest deeper than inlet reads \(thousands of levels\); nest them less deeply, at line 1, column \d+$/,
      ),
    ]);
  });

  it('inlet catalog and docs check print what is wrong with --vars, then their usage, and exit 2', async () => {
    for (const args of [
      ['catalog', '--vars', '[3]'],
      ['docs', 'check', '--vars', '[3]'],
      // A date or a float alone is a value, not a map of its fields.
      ['catalog', '--vars', '2026-01-01'],
      ['catalog', '--vars', '1.0'],
    ]) {
      const bad = await cli(...args);
      expect([args, bad.code, bad.out]).toEqual([args, 2, '']);
      expect(bad.err).toMatch(
        new RegExp(`^--vars must be a map of names to values, .*\ninlet ${args[0]} `, 's'),
      );
    }
    for (const args of [['catalog', 'a', 'b'], ['docs'], ['docs', 'lint']]) {
      const usage = await cli(...args);
      expect([args, usage.code]).toEqual([args, 2]);
      expect(usage.err).toMatch(new RegExp(`^inlet ${args[0]} `));
    }
  });

  it("warns once, on stderr, of a dbt_project.yml models: entry for no model (dbt init's example:), and runs", async () => {
    const stale = tempDir();
    try {
      const staleConfig = configIn(stale.dir, 'data_dir: ./data\nmodels:\n  builtin: false\n');
      const dir = join(stale.dir, 'project');
      writeProjectFile(
        dir,
        'dbt_project.yml',
        'name: shop\nmodels:\n  shop:\n    example: { +materialized: view }\n',
      );
      writeProjectFile(
        dir,
        'models/plans.sql',
        "/*---\ndescription: Plans.\ncolumns: { plan: The plan. }\n---*/\nSELECT 'free' AS plan",
      );
      const warning =
        /^Warning: .*dbt_project\.yml: models\.shop\.example configures no model: no folder or model by that name under .*models; correct the name, or remove it\.\n/;
      const staleCli = cliWith(staleConfig);
      for (const argv of [['run'], ['test'], ['docs', 'check'], ['catalog']]) {
        const result = await staleCli(...argv);
        expect([argv, result.code]).toEqual([argv, 0]);
        expect(result.err).toMatch(warning);
        expect(result.err.split('Warning:').length).toBe(2);
      }
    } finally {
      stale.cleanup();
    }
  });

  it('inlet docs check fails on a project it cannot read, rather than check the lake without it', async () => {
    const unread = await cli('docs', 'check');
    expect(unread.code).toBe(1);
    expect(unread.lines).toEqual([]);
    expect(unread.err).toMatch(
      /^MODEL_INVALID: .*plans\.sql line 7: \{\{ var\('seats'\) \}\} has no value;[^\n]*\n$/,
    );
  });

  it("says what to do instead of dbt's --target, -m or --selector, rather than Node's Unknown option", async () => {
    const target = await cli('run', '--target', 'prod');
    expect([target.code, target.err]).toEqual([
      2,
      "--target is one of dbt's options, which inlet does not take: inlet has no profiles or targets: it builds in data_dir, which you set in inlet.yaml; for another, pass --config with another configuration file.\n",
    ]);
    // Read from prod.yaml, the advice named data_dir and workflows in inlet.yaml.
    const prod = cliWith(configIn(join(own.dir, 'prod'), 'data_dir: ./data\n', 'prod.yaml'));
    expect((await prod('run', '-t', 'prod')).err).toBe(
      "-t is one of dbt's options, which inlet does not take: inlet has no profiles or targets: it builds in data_dir, which you set in prod.yaml; for another, pass --config with another configuration file.\n",
    );
    expect((await prod('run', '--selector', 'nightly')).err).toContain(
      "or keep a selection as a workflow's step in prod.yaml.\n",
    );
    const models = await cli('test', '-m', 'plans');
    expect(models.err).toBe(
      "-m is one of dbt's options, which inlet does not take: it is dbt's older name for --select; use --select (or -s).\n",
    );
    // dbt's YAML selectors: Node said only "Unknown option '--selector'".
    for (const command of ['run', 'test']) {
      const selector = await cli(command, '--selector', 'nightly');
      expect([selector.code, selector.err]).toEqual([
        2,
        "--selector is one of dbt's options, which inlet does not take: inlet has no YAML selectors (selectors.yml): give the selectors themselves (inlet run a b+ --exclude c), or keep a selection as a workflow's step in inlet.yaml.\n",
      ]);
    }
  });
});
