import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlString } from './layout.ts';

/**
 * Days one partitioned COPY writes at most. DuckDB's PARTITION_BY holds buffers for every partition
 * at once, and rows span as many days as their timestamps do: one copy over 800 days or more ran
 * out of memory, and as a load retries the same rows, it failed on every pass and everything after
 * them stayed out of the lake (a backfill does that, and so could any client with a write key).
 */
export const DAYS_PER_COPY = 64;

/**
 * Writes select's rows to out/dt=…/ as COPY … PARTITION_BY (dt) does, in one copy when they span
 * at most DAYS_PER_COPY days and otherwise read once into a temporary table (which spills to the
 * instance's temp directory rather than fail) and copied DAYS_PER_COPY days at a time, each copy
 * into a directory of its own whose day directories then move into out. days, when the caller
 * knows them, spares the temporary table for rows of few days. Returns the rows written.
 */
export async function copyByDay(
  connection: DuckDBConnection,
  options: { select: string; out: string; format: string; days?: string[] },
): Promise<number> {
  const { select, out, format } = options;
  const copy = async (rows: string, to: string) =>
    Number(
      (
        await connection.runAndReadAll(`COPY (${rows}) TO ${sqlString(to)} (${format}, PARTITION_BY (dt))`)
      ).getRows()[0]?.[0] ?? 0,
    );
  if (options.days && options.days.length <= DAYS_PER_COPY) return copy(select, out);
  await connection.run(`CREATE OR REPLACE TEMP TABLE copy_by_day AS ${select}`);
  try {
    const days = (await connection.runAndReadAll('SELECT DISTINCT dt::VARCHAR FROM copy_by_day ORDER BY 1'))
      .getRows()
      .map((row) => String(row[0]));
    if (days.length <= DAYS_PER_COPY) return await copy('SELECT * FROM copy_by_day', out);
    let written = 0;
    mkdirSync(out, { recursive: true });
    for (let i = 0; i < days.length; i += DAYS_PER_COPY) {
      // Compared as text: the events' dt is a DATE, the logs' a VARCHAR.
      const chunk = days.slice(i, i + DAYS_PER_COPY).map(sqlString);
      const part = `${out}.${i / DAYS_PER_COPY}`;
      rmSync(part, { recursive: true, force: true });
      written += await copy(`SELECT * FROM copy_by_day WHERE dt::VARCHAR IN (${chunk.join(', ')})`, part);
      for (const partition of existsSync(part) ? readdirSync(part) : [])
        renameSync(`${part}/${partition}`, `${out}/${partition}`);
      rmSync(part, { recursive: true, force: true });
    }
    return written;
  } finally {
    await connection.run('DROP TABLE IF EXISTS copy_by_day');
  }
}
