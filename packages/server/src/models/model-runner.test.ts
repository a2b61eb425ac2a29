// Running models over the feature project (test/model-project.ts): tables and views in dependency
// order, incremental builds by dt partition and by unique_key, backfills and full refreshes, the time
// zone, and how a mart is written. What fails a model is in model-runner-failures.test.ts, data tests
// and inlet test in model-runner-data-tests.test.ts, what a model reads and meets in the lake in
// model-runner-lake.test.ts.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { writeEvents, writeProjectFile } from '../../test/lake-fixtures.ts';
import { featureProject, statuses } from '../../test/model-project.ts';
import { createQueryEngine } from '../engine/index.ts';
import { dataLayout, readLakeTable } from '../lake/index.ts';
import { type RunOptions, runModels } from './index.ts';

const { logger, config, configIn, project, run, rows } = featureProject();

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
