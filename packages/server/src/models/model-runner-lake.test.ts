// Models over lakes of their own: a source table whose view cannot be built, a model named as a log
// table, a source named as an SQL keyword, symbolic links among a mart's files, and a run stopped
// between models or before a model's query.
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { capturingLogger } from '../../test/helpers.ts';
import { writeEvents, writeProjectFile } from '../../test/lake-fixtures.ts';
import { modelRunFolder, statuses } from '../../test/model-project.ts';
import type { InletConfig } from '../config/index.ts';
import { createQueryEngine } from '../engine/index.ts';
import { dataLayout, linkedFileWarning } from '../lake/index.ts';
import { runModels, testModels } from './index.ts';
import { tableVersions } from './table-versions.ts';

const { temp, logger, configIn } = modelRunFolder();

/** A source table of one row (id 1) in the lake, as inlet sync leaves it, with more of its _table.json. */
async function writeSourceTable(
  layout: ReturnType<typeof dataLayout>,
  source: string,
  table: string,
  meta: Record<string, unknown> = {},
) {
  const dir = join(layout.lake, 'sources', source, table);
  mkdirSync(dir, { recursive: true });
  const writer = await (await DuckDBInstance.create(':memory:')).connect();
  await writer.run(`COPY (SELECT 1 AS id) TO '${dir}/run-1.parquet'`);
  writer.closeSync();
  writeFileSync(
    join(dir, '_table.json'),
    JSON.stringify({ name: `${source}.${table}`, kind: 'source', files: '*.parquet', ...meta }),
  );
}

describe('a model over a table whose view cannot be built', () => {
  it('fails with why that table cannot be read, and the other models build', async () => {
    const own = configIn('broken-input', 'broken-project');
    const layout = dataLayout(own.data_dir);
    await writeEvents(layout, [{ ts: '2026-10-01T10:00:00Z', name: 'login' }]);
    await writeSourceTable(layout, 'crm', 'customers', { merge: { key: ['customer_id'], order_by: 'id' } });
    writeProjectFile(own.project_dir, 'models/logins.sql', 'SELECT count(*)::INT AS n FROM events');
    writeProjectFile(own.project_dir, 'models/customers_copy.sql', 'SELECT * FROM crm.customers');
    const result = await runModels({ config: own, logger });
    expect(statuses(result)).toEqual({
      customers_copy: 'failed',
      logins: 'success',
    });
    const failed = result.models.find((m) => m.name === 'customers_copy');
    expect(failed?.message).toContain('customer_id');
    expect(failed?.message).not.toContain('is not a table or view in the lake');
  });
});

describe('a model named as a log table of the lake', () => {
  it('is refused, naming the table, rather than built and hiding the log table', async () => {
    // A log source's table: daily_active_users and the built-in mart of that name: once both were
    // in the lake, either view replaced the other. Read from prod.yaml, the message said to give the
    // log source another table: in inlet.yaml.
    const own = { ...configIn('same-name', 'same-name-project'), configPath: join(temp.dir, 'prod.yaml') };
    const layout = dataLayout(own.data_dir);
    await writeEvents(layout, [{ ts: '2026-10-01T10:00:00Z', name: 'login' }]);
    const dir = join(layout.lake, 'signups');
    mkdirSync(dir, { recursive: true });
    const writer = await (await DuckDBInstance.create(':memory:')).connect();
    await writer.run(`COPY (SELECT 'hi' AS message) TO '${dir}/part-1.parquet'`);
    writer.closeSync();
    writeFileSync(
      join(dir, '_table.json'),
      JSON.stringify({ name: 'signups', kind: 'logs', files: '*.parquet' }),
    );
    writeProjectFile(own.project_dir, 'models/signups.sql', 'SELECT count(*)::INT AS n FROM events');
    await expect(runModels({ config: own, logger })).rejects.toMatchObject({
      code: 'MODEL_INVALID',
      message: `${join(own.project_dir, 'models', 'signups.sql')}: "signups" is also the name of the log table in ${dir}, and one view cannot be both; rename the model, or give the log source another table: in prod.yaml.`,
    });
    expect(existsSync(join(layout.lake, 'marts', 'signups'))).toBe(false);
  });
});

describe('SQL that writes a source named as an SQL keyword bare', () => {
  const HINT =
    '\nHint: "left" is a word DuckDB\'s SQL keeps for itself, so a source of that name needs quotes in SQL: write "left".t.';
  let own: InletConfig;
  beforeAll(async () => {
    own = {
      ...configIn('keyword-source', 'keyword-project'),
      sources: ['left', 'crm'].map((name) => ({
        name,
        type: 'csv',
        tables: [{ path: join(temp.dir, 'x.csv'), name: 't' }],
      })),
    } as InletConfig;
    const layout = dataLayout(own.data_dir);
    await writeEvents(layout, [{ ts: '2026-10-01T10:00:00Z', name: 'login' }]);
    await writeSourceTable(layout, 'left', 't');
  });

  it('fails a model with the hint to quote it, as a query does; quoted, it builds', async () => {
    writeProjectFile(own.project_dir, 'models/from_left.sql', 'SELECT id FROM left.t');
    const bare = await runModels({ config: own, logger });
    expect(bare.models[0]).toMatchObject({
      status: 'failed',
      message: expect.stringContaining('syntax error'),
    });
    expect(bare.models[0]?.message).toContain(HINT);
    // A syntax error elsewhere, with the keyword source quoted or an ordinary source bare: no hint.
    for (const sql of [
      'SELECT id FROM "left".t WHERE',
      'SELECT id FROM crm.t WHERE',
      "SELECT id FROM crm.t WHERE id = E'it\\'s left.t' AND",
      'SELECT id /* a /* b */ left.t */ FROM crm.t WHERE',
    ]) {
      writeProjectFile(own.project_dir, 'models/from_left.sql', sql);
      const other = await runModels({ config: own, logger });
      expect(other.models[0]?.status, sql).toBe('failed');
      expect(other.models[0]?.message, sql).not.toContain('Hint:');
    }
    writeProjectFile(own.project_dir, 'models/from_left.sql', 'SELECT id FROM "left".t');
    expect((await runModels({ config: own, logger })).models[0]).toMatchObject({
      status: 'success',
      rows: 1,
    });
  });
  it("fails a model's sql: test and a tests/ file with the same hint, in inlet run and inlet test", async () => {
    writeProjectFile(
      own.project_dir,
      'models/from_left.sql',
      '/*---\ntests:\n  - sql: SELECT id FROM left.t WHERE id > 1\n---*/\nSELECT id FROM "left".t',
    );
    writeProjectFile(own.project_dir, 'tests/left_ids.sql', 'SELECT id FROM left.t WHERE id IS NULL');
    const built = await runModels({ config: own, logger });
    expect(built.models[0]?.tests).toEqual([
      expect.objectContaining({ status: 'error', message: expect.stringContaining(HINT) }),
    ]);
    const tested = await testModels({ config: own });
    expect(tested.tests.map((t) => [t.name, t.status])).toEqual([
      ['sql_1', 'error'],
      ['left_ids', 'error'],
    ]);
    for (const test of tested.tests)
      expect(test.message, test.name).toMatch(/^Parser Error: .*\nHint: "left"/);
    // Written as the hint says, they pass.
    writeProjectFile(
      own.project_dir,
      'models/from_left.sql',
      '/*---\ntests:\n  - sql: SELECT id FROM "left".t WHERE id > 1\n---*/\nSELECT id FROM "left".t',
    );
    writeProjectFile(own.project_dir, 'tests/left_ids.sql', 'SELECT id FROM "left".t WHERE id IS NULL');
    expect((await testModels({ config: own })).ok).toBe(true);
  });
});

describe('a symbolic link among the files of a mart', () => {
  /**
   * A mart by dt built over three days, then the file of its oldest day (or, with version, its
   * version's folder) moved out of the lake and linked back in.
   */
  const linkedMart = async (name: string, what: 'file' | 'version' = 'file') => {
    const own = configIn(`${name}-data`, `${name}-project`);
    writeProjectFile(
      own.project_dir,
      'models/daily.sql',
      `/*---\nmaterialized: incremental\n---*/\nSELECT * FROM (VALUES (DATE '2026-09-01', 0), (DATE '2026-10-01', 1), (DATE '2026-10-02', 2)) t(dt, n)\nWHERE dt BETWEEN {{ from_dt }} AND {{ to_dt }}`,
    );
    expect((await runModels({ config: own, logger })).ok).toBe(true);
    const mart = join(own.data_dir, 'lake', 'marts', 'daily');
    const version = tableVersions(mart).current() as string;
    const link = what === 'file' ? join(version, 'dt=2026-09-01', 'part_0.parquet') : version;
    const outside = join(temp.dir, `${name}-backup`);
    renameSync(link, outside);
    symlinkSync(outside, link);
    return { own, mart, link, outside };
  };
  const daily = async (own: InletConfig) => {
    const query = await createQueryEngine({ config: own, layout: dataLayout(own.data_dir) });
    try {
      return (await query.query('SELECT dt::VARCHAR, n FROM daily ORDER BY dt')).rows;
    } finally {
      query.close();
    }
  };

  it('is left out of its view, and the mart is queried from its other files', async () => {
    // The query engine reads files inside the lake alone, links resolved: every query of the mart
    // failed with TABLE_UNAVAILABLE (Permission Error: Cannot access file "…/part_0.parquet").
    const { own } = await linkedMart('linked-view');
    expect(await daily(own)).toEqual([
      ['2026-10-01', 1],
      ['2026-10-02', 2],
    ]);
  });

  it('that is its only file makes a query of it name the link, where it was told the mart did not exist', async () => {
    // With no Parquet file left but the link, the mart had no view: 'Catalog Error: Table with name
    // daily does not exist!', with the hint that a mart is there once inlet run has built it.
    const { own, link } = await linkedMart('linked-only');
    const version = dirname(dirname(link));
    for (const day of ['dt=2026-10-01', 'dt=2026-10-02']) rmSync(join(version, day), { recursive: true });
    await expect(daily(own)).rejects.toMatchObject({
      code: 'TABLE_UNAVAILABLE',
      message: `"daily" cannot be queried: its only files are symbolic links, which inlet does not read (the query engine reads files inside the lake alone): ${link}; copy the files themselves into the lake in place of the links, or build or sync the table again (inlet run <model>, inlet sync <source>). Every other table can still be queried.`,
    });
  });

  it('is not carried into the next version by an incremental build, and is named once in a warning', async () => {
    // The build hard-linked the link itself into its staging folder, whose view failed the build
    // ("Permission Error: Cannot access file …/.staging-…/dt=2026-09-01/part_0.parquet"), and a
    // partition folder that is a link (to a folder outside the lake) had the files there carried in.
    const { own, mart, link } = await linkedMart('linked-build');
    const folder = join(temp.dir, 'linked-build-folder');
    mkdirSync(folder);
    copyFileSync(realpathSync(link), join(folder, 'part_0.parquet'));
    symlinkSync(folder, join(dirname(dirname(link)), 'dt=2026-08-01'));
    const warnings: string[] = [];
    const build = () => runModels({ config: own, logger, onWarning: (message) => warnings.push(message) });
    expect((await build()).models[0]).toMatchObject({ status: 'success', mode: 'partitions' });
    expect(warnings).toEqual([
      linkedFileWarning(join(dirname(dirname(link)), 'dt=2026-08-01')),
      linkedFileWarning(link),
    ]);
    const version = tableVersions(mart).current() as string;
    expect(readdirSync(version).sort()).toEqual(['dt=2026-10-01', 'dt=2026-10-02']);
    expect(await daily(own)).toEqual([
      ['2026-10-01', 1],
      ['2026-10-02', 2],
    ]);
    warnings.length = 0;
    expect((await build()).ok).toBe(true);
    expect(warnings).toEqual([]);
  });

  it('a stop between models reports those it never reached as skipped, not as failed models', async () => {
    // Ctrl-C, SIGTERM or a workflow's timeout marked each model after the stop FAILED ("the run was
    // stopped first"), logged an ERROR "model failed" for each and counted them as failures, as if
    // every one of them were broken.
    const own = configIn('stop-data', 'stop-project');
    for (const name of ['first', 'second', 'third'])
      writeProjectFile(own.project_dir, `models/${name}.sql`, 'SELECT 1 AS x');
    const stop = new AbortController();
    const { logger: capturing, lines } = capturingLogger();
    const result = await runModels({
      config: own,
      logger: capturing,
      signal: stop.signal,
      onResult: () => stop.abort(),
    });
    expect(result.ok).toBe(false);
    expect(result.models.map((m) => [m.name, m.status, m.message])).toEqual([
      ['first', 'success', undefined],
      ['second', 'skipped', 'the run was stopped before it reached second'],
      ['third', 'skipped', 'the run was stopped before it reached third'],
    ]);
    expect(lines.filter((line) => line.level >= 50)).toEqual([]);
  });

  it('a stop that comes after the build lock is taken, before the query starts, stops the query', async () => {
    // DuckDB's interrupt stops only a query under way: a Ctrl-C in that moment went unheard, and
    // the model's query ran to its end (and the model was published) before inlet run stopped.
    // The link's warning is said in that moment, so the stop comes there each time.
    const { own } = await linkedMart('stopped-before-query');
    writeProjectFile(
      own.project_dir,
      'models/daily.sql',
      `/*---\nmaterialized: incremental\n---*/\nSELECT * FROM (SELECT DATE '2026-10-03' + (count(*) % 1)::INTEGER AS dt, count(*) AS n FROM range(1500000000) t(i) WHERE i % 7 = 3)\nWHERE dt BETWEEN {{ from_dt }} AND {{ to_dt }}`,
    );
    const stop = new AbortController();
    const result = await runModels({
      config: own,
      logger,
      fullRefresh: true,
      signal: stop.signal,
      onWarning: () => stop.abort(),
    });
    expect(stop.signal.aborted).toBe(true);
    expect(result.models).toMatchObject([{ name: 'daily', status: 'failed', message: 'stopped' }]);
    expect(result.ok).toBe(false);
  });

  it("in place of its version's folder is named, and the mart built whole, with nothing written through it", async () => {
    // No view read the mart, its next incremental build failed ("daily: Catalog Error: Table with
    // name daily does not exist!"), and a full one wrote the old version's .retired through the
    // link, into the folder outside the lake.
    for (const fullRefresh of [false, true]) {
      const { own, mart, link, outside } = await linkedMart(`linked-version-${fullRefresh}`, 'version');
      const warnings: string[] = [];
      const built = await runModels({ config: own, logger, fullRefresh, onWarning: (m) => warnings.push(m) });
      expect(built.models[0], `fullRefresh: ${fullRefresh}`).toMatchObject({
        status: 'success',
        mode: 'full',
      });
      expect(readdirSync(outside).sort()).toEqual(['dt=2026-09-01', 'dt=2026-10-01', 'dt=2026-10-02']);
      expect(warnings).toEqual([linkedFileWarning(link)]);
      expect(tableVersions(mart).current()).not.toBe(link);
      expect(await daily(own)).toEqual([
        ['2026-09-01', 0],
        ['2026-10-01', 1],
        ['2026-10-02', 2],
      ]);
    }
  });
});
