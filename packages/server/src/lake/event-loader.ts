import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { EVENT_STRUCT_SQL } from '../events/index.ts';
import type { Logger } from '../log/index.ts';
import { scanLines, segmentPath } from '../wal/index.ts';
import { partitionFiles, publish } from './files.ts';
import { type DataLayout, sqlString } from './layout.ts';

export interface SegmentLoadResult {
  segment: number;
  rows: number;
  duplicates: number;
  corrupt: number;
  partitions: string[];
}

const pad = (segment: number) => String(segment).padStart(16, '0');

/** The Parquet name a segment's rows get in each partition: derived from the segment, so a retried load overwrites. */
export const partName = (segment: number) => `part-${pad(segment)}.parquet`;

/** Source SQL that reads one framed WAL file as event rows. */
export function walReadSql(path: string, ignoreErrors = false): string {
  return `SELECT e.* FROM read_json(${sqlString(path)}, columns={c: 'VARCHAR', e: '${EVENT_STRUCT_SQL}'}, format='newline_delimited'${ignoreErrors ? ', ignore_errors=true' : ''})`;
}

/**
 * Moves one sealed segment into lake/events/dt=…/part-<segment>.parquet. Rows are deduplicated on
 * event_id within the segment and against what the lake received in the dedup window; each file is
 * written under a temporary name and renamed; only then is the segment deleted. A crash at any
 * point leaves either the segment (loaded again, overwriting the same names) or the finished files.
 */
export async function loadSegment(options: {
  connection: DuckDBConnection;
  layout: DataLayout;
  segment: number;
  dedupWindowHours: number;
  logger: Logger;
}): Promise<SegmentLoadResult> {
  const { connection, layout, segment } = options;
  const source = segmentPath(layout.walEvents, segment);
  const data = readFileSync(source);
  let readPath = source;
  const bad: string[] = [];
  const good: Buffer[] = [];
  for (const line of scanLines(data)) {
    const bytes = data.subarray(line.start, line.end);
    if (line.check.ok) good.push(bytes);
    else
      bad.push(
        JSON.stringify({
          segment,
          offset: line.start,
          reason: line.check.reason,
          raw: bytes.toString('utf8').replace(/\n$/, ''),
        }),
      );
  }
  if (bad.length > 0) {
    const rejectDir = join(layout.rejects, 'events', `dt=${new Date().toISOString().slice(0, 10)}`);
    mkdirSync(rejectDir, { recursive: true });
    writeFileSync(join(rejectDir, `segment-${pad(segment)}.ndjson`), `${bad.join('\n')}\n`);
    options.logger.warn(
      { segment, corrupt: bad.length },
      'corrupt WAL records skipped and kept in lake/_rejects/events',
    );
    readPath = join(layout.tmp, `segment-${pad(segment)}.clean`);
    mkdirSync(layout.tmp, { recursive: true });
    writeFileSync(readPath, Buffer.concat(good));
  }
  const result: SegmentLoadResult = { segment, rows: 0, duplicates: 0, corrupt: bad.length, partitions: [] };
  if (good.length > 0) {
    await connection.run(
      `CREATE OR REPLACE TEMP TABLE batch AS SELECT * FROM (${walReadSql(readPath)}) QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY received_at) = 1`,
    );
    const stats = (
      await connection.runAndReadAll('SELECT count(*)::INTEGER, min(received_at)::VARCHAR FROM batch')
    ).getRows()[0];
    const unique = Number(stats?.[0] ?? 0);
    const dts = (await connection.runAndReadAll('SELECT DISTINCT dt::VARCHAR FROM batch ORDER BY 1'))
      .getRows()
      .map((r) => String(r[0]));
    const own = partName(segment);
    const earlier = dts.flatMap((dt) =>
      partitionFiles(join(layout.events, `dt=${dt}`))
        .filter((f) => f.name !== own)
        .map((f) => f.path),
    );
    if (earlier.length > 0) {
      // A retry that arrived after its original was loaded: drop it here so the lake holds one copy.
      await connection.run(
        `DELETE FROM batch WHERE event_id IN (SELECT event_id FROM read_parquet([${earlier.map(sqlString).join(', ')}]) ` +
          `WHERE received_at >= ${sqlString(String(stats?.[1]))}::TIMESTAMPTZ - INTERVAL ${options.dedupWindowHours} HOUR)`,
      );
    }
    for (const dt of dts) {
      const dir = join(layout.events, `dt=${dt}`);
      mkdirSync(dir, { recursive: true });
      const tmp = join(dir, `.${own}.tmp`);
      const reader = await connection.runAndReadAll(
        `COPY (SELECT * EXCLUDE (dt) FROM batch WHERE dt = ${sqlString(dt)}::DATE ORDER BY ts) TO ${sqlString(tmp)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)`,
      );
      const written = Number(reader.getRows()[0]?.[0] ?? 0);
      if (written === 0) {
        rmSync(tmp, { force: true });
        continue;
      }
      publish(tmp, join(dir, own), dir);
      result.rows += written;
      result.partitions.push(dt);
    }
    result.duplicates = good.length - result.rows;
    if (unique < good.length)
      options.logger.debug({ segment, repeated: good.length - unique }, 'repeated event ids in one segment');
    await connection.run('DROP TABLE IF EXISTS batch');
  }
  if (readPath !== source) rmSync(readPath, { force: true });
  rmSync(source);
  return result;
}

/** Seconds since the oldest segment waiting to be loaded was sealed, 0 when none waits. */
export function loaderLagSeconds(layout: DataLayout, sealed: number[]): number {
  const oldest = sealed[0];
  if (oldest === undefined) return 0;
  try {
    return Math.max(0, (Date.now() - statSync(segmentPath(layout.walEvents, oldest)).mtimeMs) / 1000);
  } catch {
    return 0;
  }
}
