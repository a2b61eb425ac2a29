import { spawn } from 'node:child_process';
import { once } from 'node:events';
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
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killedAfterwards } from '../../test/child-processes.ts';
import { capturingLogger, tempDir, testConfig } from '../../test/helpers.ts';
import { writeEvents, writeProjectFile } from '../../test/lake-fixtures.ts';
import type { InletConfig } from '../config/index.ts';
import { createQueryEngine, type QueryEngine } from '../engine/index.ts';
import { dataLayout, linkedFileWarning, readLakeTable } from '../lake/index.ts';
import { createSilentLogger } from '../log/index.ts';
import { type RunOptions, runModels, testModels } from './index.ts';
import { tableVersions } from './table-versions.ts';

const temp = tempDir();
const logger = createSilentLogger();
let config: InletConfig;
let engine: QueryEngine;
const project = (path: string, text: string) => writeProjectFile(config.project_dir, path, text);
const run = (options: Partial<RunOptions> = {}) => runModels({ config, logger, ...options });
const rows = async (sql: string) => (await engine.query(sql)).rows;
const statuses = (result: Awaited<ReturnType<typeof run>>) =>
  Object.fromEntries(result.models.map((m) => [m.name, m.status]));
/** A config of its own under temp.dir (data in <data>, models in <projectDir>), without the built-in models. */
const configIn = (data: string, projectDir: string) =>
  testConfig(join(temp.dir, data), { project_dir: join(temp.dir, projectDir), models: { builtin: false } });

beforeAll(async () => {
  config = configIn('data', 'project');
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
});
afterAll(() => {
  engine?.close();
  temp.cleanup();
});

describe('running models', () => {
  it('builds tables and views in dependency order; the query engine serves them', async () => {
    const result = await run();
    expect(result.ok).toBe(true);
    expect(result.models.map((m) => [m.name, m.status, m.mode])).toEqual([
      ['feature_daily', 'success', 'full'],
      ['feature_totals', 'success', 'view'],
      ['users', 'success', 'full'],
    ]);
    expect(result.models[0]).toMatchObject({
      rows: 3,
      partitions: ['2026-10-01', '2026-10-02', '2026-10-03'],
    });
    expect(result.models[0]?.tests.map((t) => [t.name, t.status])).toEqual([
      ['not_null(dt)', 'pass'],
      ['not_null(feature)', 'pass'],
      ['unique(dt, feature)', 'pass'],
    ]);
    expect(await rows('SELECT feature, uses FROM feature_totals ORDER BY 1')).toEqual([
      ['filter_applied', 1],
      ['report_created', 3],
    ]);
    const manifest = readLakeTable(join(config.data_dir, 'lake', 'marts', 'feature_daily'));
    expect(manifest).toMatchObject({
      name: 'feature_daily',
      kind: 'mart',
      description: 'Uses of each feature per day',
      columns: { dt: 'The UTC day', feature: 'Track event name' },
      depends_on: ['events'],
    });
    expect(readLakeTable(join(config.data_dir, 'lake', 'marts', 'feature_totals'))).toMatchObject({
      sql: expect.stringContaining('"feature_daily"'),
      depends_on: ['feature_daily'],
    });
  });

  it('an incremental run rebuilds only the newest partitions; a backfill or full refresh reaches older ones', async () => {
    const layout = dataLayout(config.data_dir);
    // A late event for an old day, and a new day.
    await writeEvents(layout, [
      { ts: '2026-10-01T12:00:00Z', name: 'report_created', user_id: 'u3' },
      { ts: '2026-10-03T12:00:00Z', name: 'filter_applied', user_id: 'u1' },
      { ts: '2026-10-04T09:00:00Z', name: 'csv_uploaded', user_id: 'u2' },
    ]);
    const daily = () => rows('SELECT dt::VARCHAR, feature, uses FROM feature_daily ORDER BY 1, 2');
    const incremental = await run({ selectors: ['feature_daily'] });
    expect(incremental.models[0]).toMatchObject({
      mode: 'partitions',
      partitions: ['2026-10-02', '2026-10-03', '2026-10-04'],
    });
    expect(await daily()).toEqual([
      ['2026-10-01', 'report_created', 2],
      ['2026-10-02', 'report_created', 1],
      ['2026-10-03', 'filter_applied', 2],
      ['2026-10-04', 'csv_uploaded', 1],
    ]);
    const backfill = await run({ selectors: ['feature_daily'], from: '2026-10-01', to: '2026-10-01' });
    expect(backfill.models[0]).toMatchObject({ mode: 'partitions', partitions: ['2026-10-01'], rows: 4 });
    expect((await daily())[0]).toEqual(['2026-10-01', 'report_created', 3]);
    const full = await run({ selectors: ['feature_daily+'], fullRefresh: true });
    expect(full.models.map((m) => [m.name, m.mode])).toEqual([
      ['feature_daily', 'full'],
      ['feature_totals', 'view'],
    ]);
    expect(await rows('SELECT sum(uses)::INT FROM feature_totals')).toEqual([[7]]);
  });

  it('merges an incremental model by unique_key: new rows replace old ones with the same key', async () => {
    project(
      'models/last_seen.sql',
      `/*---
materialized: incremental
unique_key: user_id
---*/
SELECT user_id, max(ts) AS last_ts, count(*)::INT AS events FROM events
WHERE user_id IS NOT NULL
{% if is_incremental %} AND ts > (SELECT max(last_ts) FROM {{ this }}) {% endif %}
GROUP BY ALL`,
    );
    expect((await run({ selectors: ['last_seen'] })).models[0]).toMatchObject({ mode: 'full', rows: 3 });
    await writeEvents(dataLayout(config.data_dir), [
      { ts: '2026-10-05T09:00:00Z', name: 'login', user_id: 'u1' },
    ]);
    expect((await run({ selectors: ['last_seen'] })).models[0]).toMatchObject({ mode: 'merge', rows: 3 });
    expect(await rows('SELECT user_id, last_ts::VARCHAR, events FROM last_seen ORDER BY 1')).toEqual([
      ['u1', '2026-10-05 09:00:00+00', 1],
      ['u2', '2026-10-04 09:00:00+00', 2],
      ['u3', '2026-10-03 10:00:00+00', 2],
    ]);
  });

  it('an incremental model by unique_key whose SELECT outputs a key twice fails by name, rather than keep both', async () => {
    const model = (rows: string) =>
      `/*---\nmaterialized: incremental\nunique_key: [id, kind]\n---*/\nSELECT * FROM (VALUES ${rows}) t(id, kind, v)`;
    project('models/keyed.sql', model("(1, 'a', 'x'), (1, 'a', 'y'), (2, 'a', 'z')"));
    const expected =
      'keyed outputs 2 rows for unique_key (id, kind) = (1, a), and new rows replace old ones by that key; make the SELECT output one row per key (GROUP BY it, or QUALIFY row_number() OVER (PARTITION BY id, kind ORDER BY …) = 1).';
    const first = await run({ selectors: ['keyed'] });
    expect(first.models[0]).toMatchObject({ status: 'failed', mode: 'full', message: expected });
    project('models/keyed.sql', model("(1, 'a', 'x'), (2, 'a', 'z')"));
    expect((await run({ selectors: ['keyed'] })).models[0]).toMatchObject({ status: 'success', rows: 2 });
    project('models/keyed.sql', model("(1, 'a', 'x'), (1, 'a', 'y')"));
    const merge = await run({ selectors: ['keyed'] });
    expect(merge.models[0]).toMatchObject({ status: 'failed', mode: 'merge', message: expected });
    expect(await rows('SELECT id, kind, v FROM keyed ORDER BY id')).toEqual([
      [1, 'a', 'x'],
      [2, 'a', 'z'],
    ]);
    rmSync(join(config.project_dir, 'models', 'keyed.sql'));
  });

  it('an incremental build whose columns changed fails and says to rebuild whole, rather than mixing shapes', async () => {
    const daily = (count: string) =>
      `/*---\nmaterialized: incremental\n---*/\nSELECT dt, count(*)::INT AS ${count} FROM events WHERE dt BETWEEN {{ from_dt }} AND {{ to_dt }} GROUP BY ALL`;
    project('models/daily_count.sql', daily('n'));
    expect((await run({ selectors: ['daily_count'] })).models[0]).toMatchObject({ status: 'success' });
    project('models/daily_count.sql', daily('events'));
    const renamed = await run({ selectors: ['daily_count'] });
    expect(renamed.models[0]?.status).toBe('failed');
    expect(renamed.models[0]?.message).toBe(
      'daily_count: its columns changed since it was published (now dt DATE, events INTEGER; published dt DATE, n INTEGER), and an incremental build keeps the published rows as they are. Run inlet run daily_count --full-refresh to rebuild it whole.',
    );
    expect(await rows('SELECT column_name FROM (DESCRIBE daily_count)')).toEqual([['dt'], ['n']]);
    const full = await run({ selectors: ['daily_count'], fullRefresh: true });
    expect(full.models[0]).toMatchObject({ status: 'success', mode: 'full' });
    expect(await rows('SELECT count(*)::INT, count(events)::INT FROM daily_count')).toEqual([[5, 5]]);
    expect((await run({ selectors: ['daily_count'] })).models[0]).toMatchObject({
      status: 'success',
      mode: 'partitions',
    });
    rmSync(join(config.project_dir, 'models', 'daily_count.sql'));
  });

  it('a model that uses the time zone, built on rows or a view of another zone, fails and says to rebuild it whole', async () => {
    // Its days are local days: kept as they are, those built before the change would count in the
    // old zone and the new ones in the new zone, and a day's rows could be counted twice. A view
    // holds the zone in its SQL, so a table read from it kept the old days too.
    project(
      'models/local_daily.sql',
      '/*---\nmaterialized: incremental\n---*/\nSELECT (ts AT TIME ZONE {{ timezone }})::DATE AS dt, count(*)::INT AS n FROM events WHERE dt BETWEEN {{ from_dt }} - 1 AND {{ to_dt }} + 1 GROUP BY ALL',
    );
    project(
      'models/local_events.sql',
      '/*---\nmaterialized: view\n---*/\nSELECT *, timezone({{ timezone }}, ts)::DATE AS local_dt FROM events',
    );
    project(
      'models/local_days.sql',
      "SELECT local_dt, count(*)::INT AS n FROM {{ ref('local_events') }} GROUP BY ALL",
    );
    const zoned = ['local_daily', 'local_events', 'local_days'];
    expect(statuses(await run({ selectors: [...zoned, 'feature_daily'] }))).toMatchObject({
      local_daily: 'success',
      local_days: 'success',
      feature_daily: 'success',
    });
    const tokyo = { ...config, timezone: 'Asia/Tokyo' };
    const inTokyo = (options: Partial<RunOptions>) => runModels({ config: tokyo, logger, ...options });
    const moved = await inTokyo({ selectors: ['local_daily', 'local_days', 'feature_daily'] });
    expect(Object.fromEntries(moved.models.map((m) => [m.name, m.message ?? m.status]))).toEqual({
      local_daily:
        'local_daily: its published rows were built in time zone UTC and timezone is now Asia/Tokyo, and an incremental build keeps the published rows as they are. Run inlet run +local_daily --full-refresh to rebuild it and what it reads whole in Asia/Tokyo (what their inputs no longer hold, such as events past retention, is then lost), or set timezone back to UTC.',
      local_days:
        'local_days: it reads local_events, built in time zone UTC, and timezone is now Asia/Tokyo. Run inlet run +local_days --full-refresh to rebuild it and what it reads whole in Asia/Tokyo (what their inputs no longer hold, such as events past retention, is then lost), or set timezone back to UTC.',
      // It uses no time zone: its UTC days stay right, and it builds as before.
      feature_daily: 'success',
    });
    const full = await inTokyo({ selectors: ['+local_daily', '+local_days'], fullRefresh: true });
    expect(statuses(full)).toEqual({
      local_daily: 'success',
      local_events: 'success',
      local_days: 'success',
    });
    expect((await inTokyo({ selectors: ['local_daily', 'local_days'] })).models).toMatchObject([
      { name: 'local_daily', status: 'success', mode: 'partitions' },
      { name: 'local_days', status: 'success' },
    ]);
    for (const model of zoned) rmSync(join(config.project_dir, 'models', `${model}.sql`));
  });

  it('a model built in a zone abbreviation builds on once timezone names the same zone by its IANA name', async () => {
    // timezone: CST is refused now, with America/Chicago suggested; marts built in CST (which was
    // America/Chicago) then failed as built in another zone, and could only be rebuilt whole.
    project(
      'models/chicago_daily.sql',
      '/*---\nmaterialized: incremental\n---*/\nSELECT (ts AT TIME ZONE {{ timezone }})::DATE AS dt, count(*)::INT AS n FROM events WHERE dt BETWEEN {{ from_dt }} - 1 AND {{ to_dt }} + 1 GROUP BY ALL',
    );
    const inZone = (timezone: string) =>
      runModels({ config: { ...config, timezone }, logger, selectors: ['chicago_daily'] });
    expect(statuses(await inZone('CST'))).toEqual({ chicago_daily: 'success' });
    expect((await inZone('America/Chicago')).models).toMatchObject([
      { name: 'chicago_daily', status: 'success', mode: 'partitions' },
    ]);
    // Another zone still fails, naming the IANA name to set back to, not the abbreviation refused.
    expect((await inZone('America/New_York')).models[0]?.message).toMatch(
      /or set timezone back to America\/Chicago\.$/,
    );
    rmSync(join(config.project_dir, 'models', 'chicago_daily.sql'));
  });

  it('a backfill of an incremental model that was never built builds it whole, and says so', async () => {
    project(
      'models/first_backfill.sql',
      '/*---\nmaterialized: incremental\n---*/\nSELECT dt, count(*)::INT AS n FROM events WHERE dt BETWEEN {{ from_dt }} AND {{ to_dt }} GROUP BY ALL',
    );
    project(
      'models/first_seen.sql',
      '/*---\nmaterialized: incremental\nunique_key: user_id\n---*/\nSELECT user_id, min(dt) AS first_dt FROM events WHERE user_id IS NOT NULL AND dt BETWEEN {{ from_dt }} AND {{ to_dt }} GROUP BY ALL',
    );
    const window = { from: '2026-10-03', to: '2026-10-03' };
    const days = (await rows('SELECT DISTINCT dt::VARCHAR FROM events ORDER BY 1')).map(([dt]) => dt);
    expect(days.length).toBeGreaterThan(1);
    const first = await run({ selectors: ['first_backfill', 'first_seen'], ...window });
    expect(first.models).toMatchObject([
      {
        name: 'first_backfill',
        status: 'success',
        mode: 'full',
        partitions: days,
        message: 'never built: building whole',
      },
      { name: 'first_seen', status: 'success', mode: 'full', message: 'never built: building whole' },
    ]);
    expect(await rows('SELECT user_id, first_dt::VARCHAR FROM first_seen ORDER BY 1')).toEqual(
      await rows(
        'SELECT user_id, min(dt)::VARCHAR FROM events WHERE user_id IS NOT NULL GROUP BY ALL ORDER BY 1',
      ),
    );
    // Once built, a backfill rebuilds exactly the days given.
    const again = await run({ selectors: ['first_backfill', 'first_seen'], ...window });
    expect(again.models.map((m) => [m.name, m.status, m.mode, m.partitions, m.message])).toEqual([
      ['first_backfill', 'success', 'partitions', ['2026-10-03'], undefined],
      ['first_seen', 'success', 'merge', undefined, undefined],
    ]);
    rmSync(join(config.project_dir, 'models', 'first_backfill.sql'));
    rmSync(join(config.project_dir, 'models', 'first_seen.sql'));
  });

  it('a backfill of a model just made incremental builds it whole, not only the days given', async () => {
    const sql =
      "SELECT * FROM (VALUES (DATE '2026-01-01', 1), (DATE '2026-01-02', 2), (DATE '2026-01-03', 3)) t(dt, n) WHERE dt BETWEEN {{ from_dt }} AND {{ to_dt }}";
    project('models/was_table.sql', sql);
    expect((await run({ selectors: ['was_table'] })).models[0]).toMatchObject({ status: 'success', rows: 3 });
    project('models/was_table.sql', `/*---\nmaterialized: incremental\n---*/\n${sql}`);
    const backfill = await run({ selectors: ['was_table'], from: '2026-01-02', to: '2026-01-02' });
    expect(backfill.models[0]).toMatchObject({
      status: 'success',
      mode: 'full',
      rows: 3,
      message: 'its published table has no dt partitions yet: building whole',
    });
    expect(await rows('SELECT n FROM was_table ORDER BY dt')).toEqual([[1], [2], [3]]);
    rmSync(join(config.project_dir, 'models', 'was_table.sql'));
  });

  it('an incremental model by dt that outputs rows without a dt fails by name, and never crashes the run', async () => {
    const model = (where: string) =>
      `/*---\nmaterialized: incremental\n---*/\nSELECT CASE WHEN ${where} THEN NULL ELSE dt END AS dt, count(*)::INT AS n FROM events GROUP BY ALL`;
    project('models/undated.sql', model("name = 'filter_applied'"));
    const first = await run({ selectors: ['undated'] });
    expect(first.models[0]).toMatchObject({
      status: 'failed',
      message:
        'undated outputs rows whose dt is NULL, and an incremental model by dt keeps each row in the partition of its day; leave them out (WHERE dt IS NOT NULL) or give them a day.',
    });
    expect(existsSync(join(config.data_dir, 'lake', 'marts', 'undated', '_table.json'))).toBe(false);
    // A version published before inlet refused them has a partition of NULL days; runs go on.
    project('models/undated.sql', model('false'));
    expect((await run({ selectors: ['undated'] })).models[0]).toMatchObject({ status: 'success' });
    const current =
      readLakeTable(join(config.data_dir, 'lake', 'marts', 'undated'))?.files.split('/')[0] ?? '';
    const nulls = join(config.data_dir, 'lake', 'marts', 'undated', current, 'dt=__HIVE_DEFAULT_PARTITION__');
    mkdirSync(nulls);
    const duck = await DuckDBInstance.create(':memory:');
    const connection = await duck.connect();
    await connection.run(
      `COPY (SELECT NULL::DATE AS dt, 1 AS n) TO '${join(nulls, 'part_0.parquet')}' (FORMAT parquet)`,
    );
    connection.closeSync();
    duck.closeSync();
    const again = await run({ selectors: ['undated'] });
    expect(again.models[0]).toMatchObject({ status: 'success', mode: 'partitions' });
    // An incremental run refuses them too: its window used to drop them without a word.
    project('models/undated.sql', model("name = 'filter_applied'"));
    expect((await run({ selectors: ['undated'] })).models[0]).toMatchObject({
      status: 'failed',
      mode: 'partitions',
      message: expect.stringContaining('undated outputs rows whose dt is NULL'),
    });
    rmSync(join(config.project_dir, 'models', 'undated.sql'));
  });

  it('a failing model skips what is downstream of it and nothing else; the run fails', async () => {
    project('models/broken.sql', 'SELECT no_such_column FROM events');
    project('models/after_broken.sql', "SELECT * FROM {{ ref('broken') }}");
    const result = await run();
    expect(result.ok).toBe(false);
    expect(statuses(result)).toMatchObject({
      broken: 'failed',
      after_broken: 'skipped',
      feature_daily: 'success',
      feature_totals: 'success',
      users: 'success',
    });
    expect(result.models.find((m) => m.name === 'broken')?.message).toMatch(/no_such_column/);
    expect(result.models.find((m) => m.name === 'after_broken')?.message).toBe('upstream broken failed');
    project('models/broken.sql', 'SELECT 1 AS fixed;');
    project('models/not_select.sql', 'CREATE TABLE x AS SELECT 1');
    const again = await run({ selectors: ['broken+', 'not_select'] });
    expect(statuses(again)).toEqual({ broken: 'success', after_broken: 'success', not_select: 'failed' });
    expect(again.models.find((m) => m.name === 'not_select')?.message).toMatch(/one SELECT statement/);
    // A model just created, its SQL yet to write: 'must be one SELECT statement, not 0'.
    project('models/not_select.sql', '/*---\ndescription: To do.\n---*/\n-- SELECT …\n');
    const empty = await run({ selectors: ['not_select'] });
    expect(empty.models[0]?.message).toMatch(
      /not_select\.sql: a model holds no SQL \(it is empty, or only comments\); write its one SELECT statement$/,
    );
    project('models/not_select.sql', 'SELECT 1 AS x');
    // DuckDB binds its JSON arrows more loosely than AND: the message says how to write it.
    project(
      'models/arrows.sql',
      `SELECT count(*) AS n FROM (SELECT type, '{"plan":"pro"}'::JSON AS properties FROM events)
       WHERE type = 'track' AND properties->>'plan' = 'pro'`,
    );
    const arrows = await run({ selectors: ['arrows'] });
    expect(arrows.models.find((m) => m.name === 'arrows')?.message).toMatch(
      /arrows\.sql line 2: Conversion Error.*\nLINE 2: +WHERE type = 'track'.*\nHint: DuckDB binds -> and ->> more loosely/s,
    );
    rmSync(join(temp.dir, 'project', 'models', 'arrows.sql'));
    // A seed whose quote never closes was read as one column named "id,name"; now it fails by name.
    project('seeds/plans.csv', 'id,name\n1,free\n"unterminated\n');
    const seeds = await run({ selectors: ['plans'] });
    expect(statuses(seeds)).toEqual({ plans: 'failed' });
    expect(seeds.models[0]?.message).toMatch(
      /plans\.csv: not a CSV file a seed can be \(comma-separated, a header row, every row as many fields as the header, every quote closed\)/,
    );
    // A header narrower than every row under it was passed over: the first row became the header
    // (columns "1", "free", "x") and was lost.
    project('seeds/plans.csv', 'id,name\n1,free,x\n2,team,y\n');
    const wide = await run({ selectors: ['plans'] });
    expect(wide.models[0]).toMatchObject({
      status: 'failed',
      message: expect.stringMatching(
        /plans\.csv: not a CSV file a seed can be \(comma-separated, a header row, every row as many fields as the header/,
      ),
    });
    // An empty file was built as one column named column0.
    project('seeds/plans.csv', '');
    expect((await run({ selectors: ['plans'] })).models[0]).toMatchObject({
      status: 'failed',
      message: expect.stringMatching(
        /plans\.csv: the file is empty; a seed needs a header row naming its columns/,
      ),
    });
    project('seeds/plans.csv', 'id,name,note\n1,free,"a, b"\n2,team,\n');
    expect(statuses(await run({ selectors: ['plans'] }))).toEqual({ plans: 'success' });
    // A spreadsheet's semicolon-separated export came out as one column named "id;name".
    project('seeds/plans.csv', 'id;name\r\n1;free\r\n2;team\r\n');
    const semicolons = await run({ selectors: ['plans'] });
    expect(semicolons.models[0]).toMatchObject({
      status: 'failed',
      message: expect.stringMatching(
        /plans\.csv: its header "id;name" is one column with ; in it; a seed is comma-separated/,
      ),
    });
    expect(await rows('SELECT column_name FROM (DESCRIBE plans)')).toEqual([['id'], ['name'], ['note']]);
    rmSync(join(temp.dir, 'project', 'seeds', 'plans.csv'));
  });

  it("a seed's column_types keep a zip code's leading zero, and a wrong column or type fails by name", async () => {
    project('seeds/offices.csv', 'zip,city,staff\n01234,Aoba,3\n98765,Kita,12\n');
    project('seeds/offices.yaml', 'column_types: { zip: varchar, staff: smallint }\n');
    expect(statuses(await run({ selectors: ['offices'] }))).toEqual({ offices: 'success' });
    expect(await rows('SELECT zip, city, staff FROM offices ORDER BY zip')).toEqual([
      ['01234', 'Aoba', 3],
      ['98765', 'Kita', 12],
    ]);
    expect(await rows("SELECT column_type FROM (DESCRIBE offices) WHERE column_name = 'staff'")).toEqual([
      ['SMALLINT'],
    ]);
    const fails = async (yaml: string, message: RegExp) => {
      project('seeds/offices.yaml', yaml);
      const result = await run({ selectors: ['offices'] });
      expect(result.models[0]).toMatchObject({ status: 'failed', message: expect.stringMatching(message) });
    };
    await fails(
      'column_types: { zipcode: varchar }\n',
      /offices\.yaml: column_types names zipcode, which offices\.csv has no column of; its columns are zip, city, staff/,
    );
    await fails(
      'column_types: { zip: varchr }\n',
      /offices\.yaml: column_types: zip: "varchr" is not a DuckDB type \(Did you mean "varchar"\?\)/,
    );
    await fails(
      'column_types: { city: integer }\n',
      /offices\.csv line 2: "Aoba" in column city is not a INTEGER, as column_types in offices\.yaml has it; correct the value or the type/,
    );
    // The last good version is what readers keep.
    expect(await rows("SELECT zip FROM offices WHERE city = 'Aoba'")).toEqual([['01234']]);
    rmSync(join(temp.dir, 'project', 'seeds', 'offices.csv'));
    rmSync(join(temp.dir, 'project', 'seeds', 'offices.yaml'));
  });

  it("a seed's column_types and a model's unique_key name columns in any case, as DuckDB matches them", async () => {
    project('seeds/branches.csv', 'Zip,City\n01234,Aoba\n');
    project('seeds/branches.yaml', 'column_types: { zip: varchar }\n');
    expect(statuses(await run({ selectors: ['branches'] }))).toEqual({ branches: 'success' });
    expect(await rows('SELECT "Zip", City FROM branches')).toEqual([['01234', 'Aoba']]);
    project('seeds/branches.yaml', 'column_types: { zip: varchar, city: integer }\n');
    expect((await run({ selectors: ['branches'] })).models[0]?.message).toMatch(
      /branches\.csv line 2: "Aoba" in column City is not a INTEGER, as column_types in branches\.yaml has it/,
    );
    project('seeds/branches.yaml', 'column_types: { zip: varchar, ZIP: integer }\n');
    expect((await run({ selectors: ['branches'] })).models[0]?.message).toMatch(
      /branches\.yaml: column_types names column Zip twice \(zip and ZIP\)/,
    );
    rmSync(join(config.project_dir, 'seeds', 'branches.csv'));
    rmSync(join(config.project_dir, 'seeds', 'branches.yaml'));

    const model = (values: string) =>
      `/*---\nmaterialized: incremental\nunique_key: [User_ID]\n---*/\nSELECT * FROM (VALUES ${values}) t(user_id, plan)`;
    project('models/plans_by_user.sql', model("('u1', 'free'), ('u2', 'team')"));
    expect((await run({ selectors: ['plans_by_user'] })).models[0]).toMatchObject({ status: 'success' });
    project('models/plans_by_user.sql', model("('u1', 'business')"));
    expect((await run({ selectors: ['plans_by_user'] })).models[0]).toMatchObject({
      status: 'success',
      mode: 'merge',
    });
    expect(await rows('SELECT user_id, plan FROM plans_by_user ORDER BY 1')).toEqual([
      ['u1', 'business'],
      ['u2', 'team'],
    ]);
    rmSync(join(config.project_dir, 'models', 'plans_by_user.sql'));
  });

  it('a PIVOT that DuckDB runs as more than one statement is told to list its values; one that does builds', async () => {
    const input = "(SELECT * FROM (VALUES ('free', 1), ('team', 2)) t(plan, n))";
    project('models/pivoted.sql', `-- plans as columns\nSELECT * FROM (PIVOT ${input} ON plan USING sum(n))`);
    expect((await run({ selectors: ['pivoted'] })).models[0]?.message).toMatch(
      /pivoted\.sql: a model must be one SELECT, and DuckDB runs a PIVOT without IN \(…\) as more than one statement; list the values it pivots on/,
    );
    project('models/pivoted.sql', `PIVOT ${input} ON plan IN ('free', 'team') USING sum(n)`);
    expect((await run({ selectors: ['pivoted'] })).models[0]).toMatchObject({ status: 'success', rows: 1 });
    project('models/pivoted.sql', '-- a pivot table, later\nCREATE TABLE x AS SELECT 1');
    expect((await run({ selectors: ['pivoted'] })).models[0]?.message).toMatch(
      /pivoted\.sql: a model must be one SELECT statement$/,
    );
    rmSync(join(config.project_dir, 'models', 'pivoted.sql'));
  });

  it('an incremental model by dt that outputs DT is told to name it dt, not that it has no dt', async () => {
    project(
      'models/upper_dt.sql',
      "/*---\nmaterialized: incremental\n---*/\nSELECT DATE '2026-10-01' AS DT, 1 AS n",
    );
    expect((await run({ selectors: ['upper_dt'] })).models[0]).toMatchObject({
      status: 'failed',
      message:
        'upper_dt is incremental by partition, and its partitions are by a column named dt in lower case; it outputs DT, so write AS dt.',
    });
    rmSync(join(config.project_dir, 'models', 'upper_dt.sql'));
  });

  it('a seed whose header names a column twice, in any case, or leaves one unnamed fails by name', async () => {
    const fails = async (csv: string, message: string) => {
      project('seeds/twice.csv', csv);
      const [model] = (await run({ selectors: ['twice'] })).models;
      expect(model).toMatchObject({
        status: 'failed',
        message: `${join(config.project_dir, 'seeds', 'twice.csv')}: ${message}`,
      });
    };
    await fails(
      'id,name,ID\n1,a,2\n',
      'its header names the column id (and ID) twice, and column names match whatever their case; give each column its own name.',
    );
    await fails(
      'id,,name\n1,2,3\n',
      'field 2 of its header is empty, so the column has no name; give it one in the header row.',
    );
    project('seeds/twice.csv', 'id,name\n1,a\n');
    expect(statuses(await run({ selectors: ['twice'] }))).toEqual({ twice: 'success' });
    rmSync(join(config.project_dir, 'seeds', 'twice.csv'));
  });

  it('a model that outputs two columns of one name fails by name, rather than publish one renamed a_1', async () => {
    project(
      'models/twice.sql',
      'WITH t AS (SELECT 1 AS a, 2 AS b)\nSELECT a, b AS A, b, a, b FROM t -- two of each',
    );
    const result = await run({ selectors: ['twice'] });
    expect(result.models[0]).toMatchObject({
      status: 'failed',
      message:
        'twice outputs more than one column named a (a, A, a) and b (b, b), which DuckDB would rename a_1 and so on; give each its own name with AS.',
    });
    project('models/twice.sql', 'SELECT 1 AS a, 2 AS b;');
    expect((await run({ selectors: ['twice'] })).models[0]).toMatchObject({ status: 'success' });
    rmSync(join(config.project_dir, 'models', 'twice.sql'));
  });

  it('a model, its sql: test and a tests/ file may end with ; and a comment after it, as a query may', async () => {
    // Set inside parentheses whole, "SELECT 1 AS x; -- the end" failed with DuckDB's syntax error at ";".
    project('models/ended.sql', 'SELECT 1 AS x; -- the end\n');
    project(
      'models/ended.yaml',
      'tests:\n  - name: ones\n    sql: "SELECT * FROM {{ this }} WHERE x <> 1; /* none */"\n',
    );
    project('tests/ended_ones.sql', "SELECT * FROM {{ ref('ended') }} WHERE x <> 1;\n-- none\n");
    const result = await run({ selectors: ['ended'] });
    expect(result.models[0]).toMatchObject({ name: 'ended', status: 'success', rows: 1 });
    expect(result.models[0]?.tests.map((t) => [t.name, t.status])).toEqual([['ones', 'pass']]);
    const tested = await testModels({ config, selectors: ['ended'] });
    expect(tested.tests.map((t) => [t.name, t.status])).toEqual([
      ['ones', 'pass'],
      ['ended_ones', 'pass'],
    ]);
    rmSync(join(config.project_dir, 'tests', 'ended_ones.sql'));
    for (const file of ['ended.sql', 'ended.yaml']) rmSync(join(config.project_dir, 'models', file));
  });

  it("a file where a model's folder of the lake goes fails that model by name; the others build", async () => {
    // The build tidied the folder's old versions with readdir: ENOTDIR ended inlet run (exit 5) as
    // an error inlet did not foresee, and no other model was built.
    const inTheWay = join(config.data_dir, 'lake', 'marts', 'in_the_way');
    mkdirSync(dirname(inTheWay), { recursive: true });
    writeFileSync(inTheWay, 'notes\n');
    project('models/in_the_way.sql', 'SELECT 1 AS x');
    project('models/beside_it.sql', 'SELECT 2 AS x');
    const result = await run({ selectors: ['in_the_way', 'beside_it'] });
    expect(statuses(result)).toEqual({ in_the_way: 'failed', beside_it: 'success' });
    expect(result.models.find((m) => m.name === 'in_the_way')?.message).toBe(
      `in_the_way: ${inTheWay} is a file where inlet keeps the folder of its table; move it out of the lake.`,
    );
    rmSync(inTheWay);
    for (const name of ['in_the_way', 'beside_it']) rmSync(join(config.project_dir, 'models', `${name}.sql`));
  });

  it('a model or a test whose file holds a NUL byte fails by name, and the run goes on', async () => {
    // Set in a SQL string for DuckDB's parser, the NUL ended it: inlet run stopped with "an error
    // inlet did not foresee: Parser Error: unterminated quoted string" (exit 5), building nothing.
    project('models/with_nul.sql', 'SELECT 1 AS x\nFROM range(1)\u0000');
    project('models/after_nul.sql', 'SELECT 2 AS x');
    const result = await run({ selectors: ['with_nul', 'after_nul'] });
    expect(statuses(result)).toEqual({ with_nul: 'failed', after_nul: 'success' });
    expect(result.models.find((m) => m.name === 'with_nul')?.message).toBe(
      `${join(config.project_dir, 'models', 'with_nul.sql')}: a model holds a NUL character (a zero byte) on line 2, which SQL cannot hold; remove it (a file saved as UTF-16 has one in every other byte: save it as UTF-8).`,
    );
    for (const name of ['with_nul', 'after_nul']) rmSync(join(config.project_dir, 'models', `${name}.sql`));
  });

  it('a model reads the lake and its project, and no other file or the network', async () => {
    const outside = join(temp.dir, 'outside.csv');
    writeFileSync(outside, 'secret\nx\n');
    project('models/reads_outside.sql', `SELECT * FROM read_csv('${outside}')`);
    project('models/reads_text.sql', "SELECT * FROM read_text('/etc/hostname')");
    project('models/reads_web.sql', "SELECT * FROM read_csv('https://example.com/x.csv')");
    project('inside.csv', 'kept\ny\n');
    project('models/reads_inside.sql', `SELECT * FROM read_csv('${join(config.project_dir, 'inside.csv')}')`);
    const result = await run({ selectors: ['reads_outside', 'reads_text', 'reads_web', 'reads_inside'] });
    expect(statuses(result)).toEqual({
      reads_outside: 'failed',
      reads_text: 'failed',
      reads_web: 'failed',
      reads_inside: 'success',
    });
    for (const name of ['reads_outside', 'reads_text', 'reads_web'])
      expect(result.models.find((m) => m.name === name)?.message).toMatch(/Permission Error/);
    expect(await rows('SELECT kept FROM reads_inside')).toEqual([['y']]);
    for (const name of ['reads_outside', 'reads_text', 'reads_web', 'reads_inside'])
      rmSync(join(config.project_dir, 'models', `${name}.sql`));
  });

  it('a model may not call a table function that changes the build engine, writes files or runs SQL from text', async () => {
    // enable_logging wrote its log files into the lake (outside the model's table), and aborted the
    // whole process given a directory outside the allowed ones; lock_configuration stops neither.
    const logs = join(config.data_dir, 'lake', 'events', 'logs');
    const models: Record<string, string> = {
      logs_to_lake: `SELECT * FROM enable_logging(storage := 'file', storage_path := '${logs}')`,
      sql_from_text: "SELECT * FROM range(1) r, query('SELECT 1 AS one') q",
      serialized_sql: "SELECT * FROM json_execute_serialized_sql(json_serialize_sql('SELECT 1 AS one'))",
    };
    for (const [name, sql] of Object.entries(models)) project(`models/${name}.sql`, sql);
    const result = await run({ selectors: Object.keys(models) });
    expect(statuses(result)).toEqual({
      logs_to_lake: 'failed',
      sql_from_text: 'failed',
      serialized_sql: 'failed',
    });
    expect(result.models.find((m) => m.name === 'logs_to_lake')?.message).toContain(
      'enable_logging() changes the DuckDB that builds every model',
    );
    expect(existsSync(logs)).toBe(false);
    for (const name of Object.keys(models)) rmSync(join(config.project_dir, 'models', `${name}.sql`));
  });

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

  it('a model another process is building fails with MODEL_BUSY; a lock its dead holder left is taken over', async () => {
    const other = killedAfterwards(spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)']));
    const lock = join(config.data_dir, 'state', 'locks', 'model-feature_daily.lock');
    mkdirSync(dirname(lock), { recursive: true });
    writeFileSync(lock, `${other.pid}\n`);
    const busy = await run({ selectors: ['feature_daily+'] });
    expect(statuses(busy)).toEqual({ feature_daily: 'failed', feature_totals: 'skipped' });
    expect(busy.models[0]?.message).toBe(
      `feature_daily is being built by another inlet process (pid ${other.pid}); run it again once that build is done.`,
    );
    other.kill('SIGKILL');
    await once(other, 'exit');
    const after = await run({ selectors: ['feature_daily+'] });
    expect(statuses(after)).toEqual({ feature_daily: 'success', feature_totals: 'success' });
    expect(existsSync(lock)).toBe(false);
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
    rmSync(join(config.project_dir, 'models', 'endless.sql'));
    rmSync(join(config.project_dir, 'models', 'endless.yaml'));
  });

  it('a model that reads a table not in the lake yet is skipped when it says so, failed otherwise', async () => {
    project('models/traffic.sql', 'SELECT path, count(*) AS hits FROM access_logs GROUP BY ALL');
    project('models/traffic.yaml', 'skip_when_missing: [access_logs]');
    project('models/typo.sql', 'SELECT * FROM evnets');
    project('models/never_built.sql', 'SELECT 1 AS x');
    project('models/reads_unbuilt.sql', "SELECT * FROM {{ ref('never_built') }}");
    const result = await run({ selectors: ['traffic', 'typo', 'reads_unbuilt'] });
    expect(statuses(result)).toEqual({ traffic: 'skipped', typo: 'failed', reads_unbuilt: 'failed' });
    expect(result.models.find((m) => m.name === 'traffic')?.message).toBe(
      'access_logs is not in the lake yet, so traffic waits for it',
    );
    expect(result.models.find((m) => m.name === 'typo')?.message).toMatch(
      /reads evnets, which is not a table or view in the lake/,
    );
    expect(result.models.find((m) => m.name === 'reads_unbuilt')?.message).toBe(
      'reads_unbuilt needs never_built, which has not been built yet (run inlet run +reads_unbuilt to build it too)',
    );
    expect(existsSync(join(config.data_dir, 'lake', 'marts', 'traffic'))).toBe(false);
    // {{ this }} outside {% if is_incremental %}: building it first would not help.
    project(
      'models/reads_itself.sql',
      "/*---\nmaterialized: incremental\nunique_key: user_id\n---*/\nSELECT user_id, max(ts) AS last_ts FROM events WHERE ts > (SELECT coalesce(max(last_ts), TIMESTAMPTZ '2000-01-01') FROM {{ this }}) GROUP BY ALL",
    );
    const itself = await run({ selectors: ['reads_itself'] });
    expect(itself.models[0]?.message).toBe(
      'reads_itself reads {{ this }}, its own table, which does not exist before its first build; put what reads it inside {% if is_incremental %}…{% endif %}',
    );
    // A table model is never incremental: that advice would drop the read on every build.
    project('models/reads_itself.sql', 'SELECT * FROM {{ this }}');
    expect((await run({ selectors: ['reads_itself'] })).models[0]?.message).toBe(
      'reads_itself reads {{ this }}, its own table, which does not exist before its first build; a table model is built whole each time, so make it materialized: incremental to add to what it built before',
    );
    rmSync(join(config.project_dir, 'models', 'reads_itself.sql'));
  });
  it('a CTE named after the table it reads still counts that table as an input', async () => {
    project(
      'models/server_errors.sql',
      'WITH access_logs AS (SELECT * FROM access_logs WHERE status >= 500) SELECT path, count(*) AS errors FROM access_logs GROUP BY ALL',
    );
    project('models/server_errors.yaml', 'skip_when_missing: [access_logs]');
    project(
      'models/signed_in.sql',
      'WITH events AS (SELECT * FROM events WHERE user_id IS NOT NULL), counted AS (SELECT count(*) AS n FROM events) SELECT n FROM counted',
    );
    project(
      'models/countdown.sql',
      'WITH RECURSIVE countdown(n) AS (SELECT 3 UNION ALL SELECT n - 1 FROM countdown WHERE n > 1) SELECT n FROM countdown',
    );
    const result = await run({ selectors: ['countdown', 'server_errors', 'signed_in'] });
    expect(result.models.map((m) => [m.name, m.status, m.inputs])).toEqual([
      ['countdown', 'success', []],
      ['server_errors', 'skipped', ['access_logs']],
      ['signed_in', 'success', ['events']],
    ]);
    expect(readLakeTable(join(config.data_dir, 'lake', 'marts', 'signed_in'))?.depends_on).toEqual([
      'events',
    ]);
    for (const file of ['countdown.sql', 'server_errors.sql', 'server_errors.yaml', 'signed_in.sql'])
      rmSync(join(config.project_dir, 'models', file));
  });

  it('an incremental model by key whose first build found no rows builds whole next time, not against an empty table', async () => {
    project(
      'models/last_export.sql',
      `/*---
materialized: incremental
unique_key: user_id
---*/
SELECT user_id, max(ts) AS last_ts FROM events WHERE name = 'report_exported'
{% if is_incremental %} AND ts > (SELECT max(last_ts) FROM {{ this }}) {% endif %}
GROUP BY ALL`,
    );
    expect((await run({ selectors: ['last_export'] })).models[0]).toMatchObject({
      status: 'success',
      rows: 0,
    });
    await writeEvents(dataLayout(config.data_dir), [
      { ts: '2026-10-07T09:00:00Z', name: 'report_exported', user_id: 'u2' },
    ]);
    expect((await run({ selectors: ['last_export'] })).models[0]).toMatchObject({
      status: 'success',
      mode: 'full',
      rows: 1,
    });
    expect((await run({ selectors: ['last_export'] })).models[0]).toMatchObject({ mode: 'merge', rows: 1 });
    rmSync(join(config.project_dir, 'models', 'last_export.sql'));
  });

  it('writes a wide table mart in row groups of at most 32 MB, and keeps the order of one with ORDER BY', async () => {
    // 150,000 rows of ~650 bytes: two row groups of up to 122,880 rows without the byte cap.
    const wide =
      'SELECT i AS id, (i * 7919) % 1000 AS k, repeat(md5(i::VARCHAR), 20) AS body FROM range(150000) t(i)';
    project('models/wide_rows.sql', wide);
    project('models/wide_sorted.sql', `${wide} ORDER BY k, id`);
    const result = await run({ selectors: ['wide_rows', 'wide_sorted'] });
    expect(statuses(result)).toEqual({ wide_rows: 'success', wide_sorted: 'success' });
    const duck = await DuckDBInstance.create(':memory:');
    const connection = await duck.connect();
    const files = (name: string) => `'${join(config.data_dir, 'lake', 'marts', name)}/**/*.parquet'`;
    const [groups, largest, count] = (
      await connection.runAndReadAll(
        `SELECT count(DISTINCT (file_name, row_group_id))::INTEGER, max(row_group_num_rows)::INTEGER, ` +
          `(SELECT count(DISTINCT id)::INTEGER FROM read_parquet(${files('wide_rows')})) ` +
          `FROM parquet_metadata(${files('wide_rows')})`,
      )
    ).getRows()[0] as number[];
    expect(count).toBe(150_000);
    expect(groups).toBeGreaterThan(2);
    expect(largest).toBeLessThan(100_000);
    // Read back in file order: no row comes before one it sorts after.
    const [outOfOrder, sortedCount] = (
      await connection.runAndReadAll(
        'SELECT count(*) FILTER (WHERE prev_k IS NOT NULL AND (k, id) < (prev_k, prev_id))::INTEGER, count(*)::INTEGER FROM (' +
          'SELECT k, id, lag(k) OVER w AS prev_k, lag(id) OVER w AS prev_id ' +
          `FROM read_parquet(${files('wide_sorted')}, filename = true, file_row_number = true) WINDOW w AS (ORDER BY filename, file_row_number))`,
      )
    ).getRows()[0] as number[];
    expect([outOfOrder, sortedCount]).toEqual([0, 150_000]);
    connection.closeSync();
    duck.closeSync();
  });
});

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

describe('an incremental model by dt that outputs days after today', () => {
  it("still rebuilds today's partition, rather than only the days from its newest one (a due date) on", async () => {
    const own = configIn('future-data', 'future-project');
    const layout = dataLayout(own.data_dir);
    const now = new Date().toISOString();
    const today = now.slice(0, 10);
    await writeEvents(layout, [{ ts: now, name: 'order_placed' }]);
    // Orders by the day they were placed and by the day they are due, a week later: its input
    // filter reaches back that week, as docs/models.md says.
    writeProjectFile(
      own.project_dir,
      'models/order_days.sql',
      `/*---
materialized: incremental
---*/
WITH placed AS (SELECT dt FROM events WHERE name = 'order_placed' AND dt >= {{ from_dt }} - 7)
SELECT dt, 'placed' AS what, count(*)::INT AS orders FROM placed GROUP BY ALL
UNION ALL
SELECT (dt + 7)::DATE AS dt, 'due' AS what, count(*)::INT AS orders FROM placed GROUP BY ALL`,
    );
    const first = await runModels({ config: own, logger });
    expect(first.models[0]).toMatchObject({ status: 'success', mode: 'full' });
    await writeEvents(layout, [{ ts: now, name: 'order_placed' }]);
    const second = await runModels({ config: own, logger });
    expect(second.models[0]).toMatchObject({ status: 'success', mode: 'partitions' });
    expect(second.models[0]?.partitions).toContain(today);
    const query = await createQueryEngine({ config: own, layout });
    try {
      expect((await query.query('SELECT what, orders FROM order_days ORDER BY dt')).rows).toEqual([
        ['placed', 2],
        ['due', 2],
      ]);
    } finally {
      query.close();
    }
  });
});

describe('an incremental model by dt that outputs no row for a day in its window', () => {
  it("keeps that day's rows on a scheduled run, as dbt's insert_overwrite does; a backfill of that day empties it", async () => {
    const own = configIn('snapshot-data', 'snapshot-project');
    const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
    // A copy of a table a day: each run outputs today's copy only (as SELECT current_date AS dt would).
    const model = (dt: string, n: number) =>
      writeProjectFile(
        own.project_dir,
        'models/daily_copy.sql',
        `/*---\nmaterialized: incremental\nlookback_days: 0\n---*/\nSELECT DATE '${dt}' AS dt, ${n} AS n`,
      );
    model(day(-1), 1);
    expect((await runModels({ config: own, logger })).models[0]).toMatchObject({ mode: 'full' });
    model(day(0), 2);
    expect((await runModels({ config: own, logger })).models[0]).toMatchObject({
      mode: 'partitions',
      partitions: [day(0)],
    });
    const query = await createQueryEngine({ config: own, layout: dataLayout(own.data_dir) });
    const copies = async () => (await query.query('SELECT dt::VARCHAR, n FROM daily_copy ORDER BY dt')).rows;
    try {
      expect(await copies()).toEqual([
        [day(-1), 1],
        [day(0), 2],
      ]);
      await runModels({ config: own, logger, from: day(-1), to: day(0) });
      expect(await copies()).toEqual([[day(0), 2]]);
    } finally {
      query.close();
    }
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
