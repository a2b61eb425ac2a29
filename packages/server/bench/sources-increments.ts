// The `merge` section of `npm run bench:sources`: a PostgreSQL table copied in mode merge again and
// again, as a workflow that syncs every 15 minutes does, with rows changing between syncs. It prints
// what a sync costs, how many files the table ends with, and how long a query of its view takes.
// BENCH_MERGE_KEYS (default 100,000) rows, BENCH_MERGE_RUNS (default 96, a day of 15-minute syncs),
// BENCH_MERGE_CHANGES rows changed before each (default 1,000). INLET_TEST_PG_URL names the server.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { parseConfig } from '../src/config/index.ts';
import { createQueryEngine } from '../src/engine/index.ts';
import { createSources, findSource } from '../src/sources/index.ts';
import { openStateStore } from '../src/state/index.ts';
import { sourceContext } from '../test/helpers.ts';

const KEYS = Number(process.env.BENCH_MERGE_KEYS ?? 100_000);
const RUNS = Number(process.env.BENCH_MERGE_RUNS ?? 96);
const CHANGES = Number(process.env.BENCH_MERGE_CHANGES ?? 1_000);
const PG_URL = process.env.INLET_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const TABLE = 'inlet_bench.merge_customers';

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** Every Parquet file under dir, with its size. */
function parquetFiles(dir: string): number[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.parquet'))
    .map((name) => statSync(join(dir, name)).size);
}

export async function mergeSection() {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  const temp = mkdtempSync(join(tmpdir(), 'inlet-bench-merge-'));
  try {
    await client.query('CREATE SCHEMA IF NOT EXISTS inlet_bench');
    await client.query(`DROP TABLE IF EXISTS ${TABLE}`);
    await client.query(
      `CREATE TABLE ${TABLE} (id int PRIMARY KEY, name text, plan text, seats int, updated_at timestamptz NOT NULL DEFAULT clock_timestamp(), deleted_at timestamptz)`,
    );
    await client.query(
      `INSERT INTO ${TABLE} (id, name, plan, seats) SELECT i, 'customer ' || i, (ARRAY['free','team','business'])[1 + i % 3], i % 50 FROM generate_series(1, ${KEYS}) i`,
    );
    const config = parseConfig({
      data_dir: join(temp, 'data'),
      sources: [
        {
          name: 'crm',
          type: 'postgres',
          url: PG_URL,
          tables: [
            {
              table: TABLE,
              name: 'customers',
              mode: 'merge',
              primary_key: 'id',
              cursor: 'updated_at',
              deleted_column: 'deleted_at',
            },
          ],
        },
      ],
    });
    const state = openStateStore(join(temp, 'state.sqlite'));
    const source = findSource(createSources(config), 'crm');
    const context = sourceContext(config, state);
    let started = performance.now();
    await source.sync(context);
    console.log(`  first sync: ${fmt(KEYS)} rows in ${((performance.now() - started) / 1000).toFixed(2)} s`);
    const times: number[] = [];
    for (let run = 1; run < RUNS; run++) {
      const from = (run * CHANGES) % KEYS;
      await client.query(
        `UPDATE ${TABLE} SET seats = seats + 1, updated_at = clock_timestamp() WHERE id > ${from} AND id <= ${from + CHANGES}`,
      );
      await client.query(
        `UPDATE ${TABLE} SET deleted_at = now(), updated_at = clock_timestamp() WHERE id = ${1 + ((run * 7919) % KEYS)}`,
      );
      started = performance.now();
      await source.sync(context);
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    const files = parquetFiles(join(context.layout.lake, 'sources', 'crm', 'customers'));
    console.log(
      `  ${RUNS - 1} more syncs of ${fmt(CHANGES)} changed rows each: median ${fmt(times[times.length >> 1] ?? 0)} ms, ` +
        `slowest ${fmt(times.at(-1) ?? 0)} ms; the table ends with ${files.length} Parquet files, ` +
        `${(files.reduce((a, b) => a + b, 0) / 1e6).toFixed(1)} MB`,
    );
    const engine = await createQueryEngine({ config, layout: context.layout });
    try {
      const live = await client.query(`SELECT count(*)::int AS n FROM ${TABLE} WHERE deleted_at IS NULL`);
      for (const sql of [
        'SELECT count(*) AS n, sum(seats) AS seats FROM crm.customers',
        'SELECT plan, count(*) FROM crm.customers GROUP BY plan',
        'SELECT * FROM crm.customers WHERE id = 4242',
      ]) {
        const ms: number[] = [];
        let rows: unknown[][] = [];
        for (let i = 0; i < 5; i++) {
          const t = performance.now();
          rows = (await engine.query(sql)).rows;
          ms.push(performance.now() - t);
        }
        ms.sort((a, b) => a - b);
        console.log(`  ${sql}: best ${fmt(ms[0] ?? 0)} ms, median ${fmt(ms[2] ?? 0)} ms`);
        if (sql.includes('count(*) AS n') && Number(rows[0]?.[0]) !== live.rows[0].n)
          console.log(`  (!) the view shows ${rows[0]?.[0]} rows, PostgreSQL ${live.rows[0].n} live ones`);
      }
    } finally {
      engine.close();
      state.close();
    }
  } finally {
    await client.query(`DROP TABLE IF EXISTS ${TABLE}`);
    await client.end();
    rmSync(temp, { recursive: true, force: true });
  }
}
