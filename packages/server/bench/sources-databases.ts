// The database sections of `npm run bench:sources`: PostgreSQL and MySQL tables → Parquet through
// `inlet sync`, next to what the database itself can send. BENCH_DB_ROWS sets the table size (default
// 5,000,000); INLET_TEST_PG_URL and INLET_TEST_MYSQL_URL point at the servers. The 10-column bench
// tables are kept in the schema/database inlet_bench between runs, since filling them takes longer
// than the copy (DROP SCHEMA inlet_bench CASCADE / DROP DATABASE inlet_bench to remove them).
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import mysqlStream from 'mysql2';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { spawnInlet } from '../test/inlet-process.ts';

const ROWS = Number(process.env.BENCH_DB_ROWS ?? 5_000_000);
const PG_URL = process.env.INLET_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const MYSQL_URL = process.env.INLET_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
const TABLE = `rows_${ROWS}`;

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;

/** Peak RSS (VmHWM) and CPU seconds of a running process, from /proc. */
function processStats(pid: number): { peak: number; cpu: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    const ticks = Number(stat[11]) + Number(stat[12]);
    return { peak: Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024, cpu: ticks / 100 };
  } catch {
    return undefined;
  }
}

/**
 * Runs `inlet sync` for one source in a child process, as a user would, so its memory is its own:
 * returns the sync's own time (from its log), its peak RSS and CPU seconds.
 */
async function timeSync(source: Record<string, unknown>, env: Record<string, string>) {
  const temp = mkdtempSync(join(tmpdir(), 'inlet-bench-db-'));
  try {
    const config = join(temp, 'inlet.yaml');
    writeFileSync(config, JSON.stringify({ data_dir: join(temp, 'data'), sources: [source] }));
    const started = performance.now();
    const sync = spawnInlet(['sync', String(source.name), '--config', config], {
      ...process.env,
      ...env,
      INLET_LOG_LEVEL: 'info',
    });
    let stats = { peak: 0, cpu: 0 };
    const poll = setInterval(() => {
      // A process that has exited but is not reaped yet reads as zero: keep the highest values.
      const now = processStats(sync.child.pid ?? 0);
      if (now) stats = { peak: Math.max(stats.peak, now.peak), cpu: Math.max(stats.cpu, now.cpu) };
    }, 20);
    const code = await sync.exit;
    clearInterval(poll);
    const wall = (performance.now() - started) / 1000;
    if (code !== 0) throw new Error(`inlet sync failed: ${sync.err}`);
    const synced = sync.out
      .split('\n')
      .filter((line) => line.includes('"table synced"'))
      .map((line) => JSON.parse(line) as { rows: number; ms: number });
    const rows = synced.reduce((n, t) => n + t.rows, 0);
    const seconds = synced.reduce((n, t) => n + t.ms, 0) / 1000;
    return { rows, seconds, wall, ...stats };
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

export async function postgresSection(): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query('CREATE SCHEMA IF NOT EXISTS inlet_bench');
    const exists = await client.query(`SELECT to_regclass('inlet_bench.${TABLE}') AS t`);
    if (!exists.rows[0]?.t) {
      const started = performance.now();
      await client.query(`CREATE UNLOGGED TABLE inlet_bench.${TABLE} AS
        SELECT i::bigint AS id, (i % 1000)::int AS account_id, ((i % 100000) / 7.0)::numeric(12,2) AS amount,
          'user-' || i || '@example.com' AS email,
          timestamptz '2026-01-01 00:00:00+00' + i * interval '1 second' AS created_at,
          date '2026-01-01' + (i % 365) AS day, (i % 3 = 0) AS active, (i * 1.5)::float8 AS score,
          md5(i::text)::uuid AS uid, CASE WHEN i % 10 = 0 THEN NULL ELSE 'プラン_' || (i % 5) END AS plan
        FROM generate_series(1, ${ROWS}) AS i`);
      await client.query(`VACUUM ANALYZE inlet_bench.${TABLE}`);
      console.log(`  created inlet_bench.${TABLE} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
    console.log(
      `  ${fmt(ROWS)} rows × 10 columns (bigint, int, numeric(12,2), text, timestamptz, date, bool, float8, uuid, text)`,
    );

    // What PostgreSQL can send at all: COPY … TO STDOUT into /dev/null through the same client
    // library, before and after the sync, after one untimed COPY that warms the caches. Other work on
    // the machine moves all of these; the faster COPY is the one compared against.
    const copy = async () => {
      const started = performance.now();
      await pipeline(
        client.query(copyTo(`COPY inlet_bench.${TABLE} TO STDOUT WITH (FORMAT csv)`)),
        createWriteStream('/dev/null'),
      );
      return (performance.now() - started) / 1000;
    };
    await copy();
    const before = await copy();
    const sync = await timeSync(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is inlet.yaml syntax, not a template
      { name: 'bench', type: 'postgres', url: '${BENCH_URL}', tables: [{ table: `inlet_bench.${TABLE}` }] },
      { BENCH_URL: PG_URL },
    );
    const after = await copy();
    const copySeconds = Math.min(before, after);
    console.log(
      `  COPY TO STDOUT → /dev/null:         ${fmt(ROWS / copySeconds)} rows/s, ${before.toFixed(1)} s before and ${after.toFixed(1)} s after the sync`,
    );
    console.log(
      `  inlet sync → Parquet (full):        ${fmt(sync.rows / sync.seconds)} rows/s, ${sync.seconds.toFixed(1)} s, ` +
        `${(sync.seconds / copySeconds).toFixed(2)}× COPY's time, peak RSS ${mb(sync.peak)}, ${sync.cpu.toFixed(1)} s CPU ` +
        `(the inlet process; ${sync.wall.toFixed(1)} s from start to exit)`,
    );
  } finally {
    await client.end();
  }
}

export async function mysqlSection(): Promise<void> {
  const conn = await mysql.createConnection({ uri: MYSQL_URL, charset: 'UTF8MB4_UNICODE_CI' });
  try {
    await conn.query('CREATE DATABASE IF NOT EXISTS inlet_bench CHARACTER SET utf8mb4');
    const [found] = await conn.query(
      `SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'inlet_bench' AND TABLE_NAME = '${TABLE}'`,
    );
    if ((found as unknown[]).length === 0) {
      const started = performance.now();
      await conn.query(`CREATE TABLE inlet_bench.${TABLE} (
        id BIGINT PRIMARY KEY, account_id INT, amount DECIMAL(12,2), email VARCHAR(255), created_at DATETIME(6),
        day DATE, active BOOLEAN, score DOUBLE, uid CHAR(36), plan VARCHAR(20)) CHARACTER SET utf8mb4`);
      // seq_1_to_N is MariaDB's sequence engine.
      await conn.query(`INSERT INTO inlet_bench.${TABLE}
        SELECT seq, seq % 1000, (seq % 100000) / 7, CONCAT('user-', seq, '@example.com'),
          TIMESTAMP'2026-01-01 00:00:00' + INTERVAL seq SECOND, DATE'2026-01-01' + INTERVAL (seq % 365) DAY,
          seq % 3 = 0, seq * 1.5, UUID(), IF(seq % 10 = 0, NULL, CONCAT('プラン_', seq % 5))
        FROM seq_1_to_${ROWS}`);
      console.log(`  created inlet_bench.${TABLE} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
    console.log(
      `  ${fmt(ROWS)} rows × 10 columns (bigint, int, decimal(12,2), varchar, datetime(6), date, bool, double, char(36), varchar)`,
    );

    // What the client library can read at all: rows streamed and dropped.
    const started = performance.now();
    let read = 0;
    const plain = mysqlStream.createConnection({ uri: MYSQL_URL });
    for await (const _row of plain.query(`SELECT * FROM inlet_bench.${TABLE}`).stream()) read++;
    plain.destroy();
    const readSeconds = (performance.now() - started) / 1000;
    console.log(
      `  mysql2 stream, rows dropped:        ${fmt(read / readSeconds)} rows/s, ${readSeconds.toFixed(1)} s wall`,
    );

    const sync = await timeSync(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is inlet.yaml syntax, not a template
      { name: 'bench', type: 'mysql', url: '${BENCH_URL}', tables: [{ table: `inlet_bench.${TABLE}` }] },
      { BENCH_URL: MYSQL_URL },
    );
    console.log(
      `  inlet sync → Parquet (full):        ${fmt(sync.rows / sync.seconds)} rows/s, ${sync.seconds.toFixed(1)} s, ` +
        `peak RSS ${mb(sync.peak)}, ${sync.cpu.toFixed(1)} s CPU (the inlet process; ${sync.wall.toFixed(1)} s from start to exit)`,
    );
  } finally {
    await conn.end();
  }
}
