import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
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

/** Source SQL that reads one framed WAL file as event rows. */
export function walReadSql(path: string, ignoreErrors = false): string {
  return `SELECT e.* FROM read_json(${sqlString(path)}, columns={c: 'VARCHAR', e: '${EVENT_STRUCT_SQL}'}, format='newline_delimited'${ignoreErrors ? ', ignore_errors=true' : ''})`;
}

/**
 * Moves one sealed segment into lake/events/dt=…/part-<segment>.parquet (the name comes from the
 * segment, so a retried load overwrites instead of adding). Rows are deduplicated on
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
  const segmentFile = segmentPath(layout.walEvents, segment);
  const data = readFileSync(segmentFile);
  let readPath = segmentFile;
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
    const source = `(${walReadSql(readPath)})`;
    // One cheap pass over three columns decides which dedup work is needed at all; the rows then go
    // from the segment to Parquet in one streaming COPY, never materialised.
    const [total, distinct, firstReceived, dtList] = (
      await connection.runAndReadAll(
        `SELECT count(*)::INTEGER, count(DISTINCT event_id)::INTEGER, min(received_at)::VARCHAR, string_agg(DISTINCT dt::VARCHAR, ',') FROM ${source}`,
      )
    ).getRows()[0] as [number, number, string, string];
    const own = `part-${pad(segment)}`;
    const earlier = dtList.split(',').flatMap((dt) =>
      partitionFiles(join(layout.events, `dt=${dt}`))
        .filter((f) => !f.name.startsWith(own))
        .map((f) => f.path),
    );
    let filter = '';
    if (earlier.length > 0) {
      // A retry that arrived after its original was loaded: drop it here so the lake holds one copy.
      await connection.run(
        `CREATE OR REPLACE TEMP TABLE seen AS SELECT event_id FROM read_parquet([${earlier.map(sqlString).join(', ')}]) ` +
          `WHERE received_at >= ${sqlString(firstReceived)}::TIMESTAMPTZ - INTERVAL ${options.dedupWindowHours} HOUR ` +
          `INTERSECT SELECT event_id FROM ${source}`,
      );
      filter = ' WHERE event_id NOT IN (SELECT event_id FROM seen)';
    }
    const qualify =
      distinct < total ? ' QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY received_at) = 1' : '';
    const staging = join(layout.tmp, 'load', pad(segment));
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(join(layout.tmp, 'load'), { recursive: true });
    const reader = await connection.runAndReadAll(
      `COPY (SELECT * FROM ${source}${filter}${qualify}) TO ${sqlString(staging)} ` +
        '(FORMAT parquet, PARTITION_BY (dt), COMPRESSION zstd, ROW_GROUP_SIZE 122880)',
    );
    result.rows = Number(reader.getRows()[0]?.[0] ?? 0);
    for (const partition of existsSync(staging) ? readdirSync(staging).sort() : []) {
      const dir = join(layout.events, partition);
      mkdirSync(dir, { recursive: true });
      readdirSync(join(staging, partition))
        .sort()
        .forEach((file, i) => {
          publish(join(staging, partition, file), join(dir, `${own}${i === 0 ? '' : `-${i}`}.parquet`), dir);
        });
      result.partitions.push(partition.slice(3));
    }
    rmSync(staging, { recursive: true, force: true });
    result.duplicates = good.length - result.rows;
    if (earlier.length > 0) await connection.run('DROP TABLE IF EXISTS seen');
  }
  if (readPath !== segmentFile) rmSync(readPath, { force: true });
  rmSync(segmentFile);
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
