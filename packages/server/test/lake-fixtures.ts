import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { EVENT_STRUCT_SQL, type EventRecord, serializeEventRecord } from '../src/events/index.ts';
import { type DataLayout, sqlString, writeLakeTable } from '../src/lake/index.ts';
import { encodeRecord, segmentPath } from '../src/wal/index.ts';

export type FixtureEvent = Partial<EventRecord> & { ts: string };

let lastReceivedAt = 0;

/**
 * One event as a framed WAL line, serialized as the collector does. Defaults: site docs, a track
 * event "signup" received now, each a millisecond after the one before at least: two records made
 * within one millisecond were one request's to the loader, whose retry of an event already in the
 * lake was then counted as a segment loaded again (loader.test.ts, on a fast machine), dt from ts.
 */
export function walRecord(fields: Partial<EventRecord> & { event_id: string; ts: string }): string {
  lastReceivedAt = Math.max(Date.now(), lastReceivedAt + 1);
  return encodeRecord(
    serializeEventRecord({
      site: 'docs',
      type: 'track',
      name: 'signup',
      received_at: new Date(lastReceivedAt).toISOString(),
      device_type: 'desktop',
      is_bot: false,
      dt: fields.ts.slice(0, 10),
      ...fields,
    }),
  );
}

/**
 * Writes hand-made events into lake/events as the loader would (Parquet in dt= partitions), so
 * models read them through the real events view. Defaults: site docs, a track event, not a bot.
 */
export async function writeEvents(
  layout: DataLayout,
  events: FixtureEvent[],
  batch = randomUUID().slice(0, 8),
) {
  const records: EventRecord[] = events.map((e) => ({
    event_id: randomUUID(),
    site: 'docs',
    type: 'track',
    received_at: e.ts,
    device_type: 'desktop',
    is_bot: false,
    dt: new Date(e.ts).toISOString().slice(0, 10),
    ...e,
  }));
  mkdirSync(layout.tmp, { recursive: true });
  mkdirSync(layout.events, { recursive: true });
  const file = join(layout.tmp, `fixture-${batch}.ndjson`);
  writeFileSync(file, records.map((r) => JSON.stringify({ e: r })).join('\n'));
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    await connection.run(
      `COPY (SELECT e.* FROM read_json(${sqlString(file)}, columns={e: '${EVENT_STRUCT_SQL}'}, format='newline_delimited')) ` +
        `TO ${sqlString(layout.events)} (FORMAT parquet, PARTITION_BY (dt), FILENAME_PATTERN 'part-fixture-${batch}-{i}', OVERWRITE_OR_IGNORE true)`,
    );
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Writes an access_logs table the way a log source would: Parquet in dt= partitions with a manifest. */
export async function writeAccessLogs(
  layout: DataLayout,
  rows: Array<{ ts: string; path: string; status: number; bytes?: number }>,
) {
  const dir = join(layout.lake, 'access_logs');
  const values = rows
    .map((r) => `(TIMESTAMPTZ ${sqlString(r.ts)}, ${sqlString(r.path)}, ${r.status}, ${r.bytes ?? 100})`)
    .join(', ');
  mkdirSync(dir, { recursive: true });
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    await connection.run("SET TimeZone = 'UTC'");
    await connection.run(
      `COPY (SELECT ts, path, status, bytes, ts::DATE AS dt FROM (VALUES ${values}) t(ts, path, status, bytes)) ` +
        `TO ${sqlString(dir)} (FORMAT parquet, PARTITION_BY (dt), FILENAME_PATTERN 'part-fixture-{i}', OVERWRITE_OR_IGNORE true)`,
    );
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  writeLakeTable(dir, {
    name: 'access_logs',
    kind: 'logs',
    files: 'dt=*/*.parquet',
    hive_partitioning: true,
  });
}

/** Writes a project file (models/x.sql, seeds/y.csv, workflows/z.yaml…) under a project directory. */
export function writeProjectFile(projectDir: string, path: string, text: string | Uint8Array): void {
  const full = join(projectDir, path);
  mkdirSync(dirname(full), { recursive: true });
  writeFileSync(full, text);
}

/**
 * WAL segment 1 holding the event "kept", and segment `gone`, there when the engine verifies the
 * view's segments and deleted before DuckDB reads them, as a loader in another process deletes one
 * in between: the engine asks retiring() of each segment as it verifies them, and again as it builds
 * the view's SQL, where this deletes `gone`. restore() writes it again, to go away once more.
 */
export function walWithMissingSegment(
  layout: DataLayout,
  gone: number,
): { path: string; retiring: (path: string) => boolean; restore: () => void } {
  mkdirSync(layout.walEvents, { recursive: true });
  writeFileSync(
    segmentPath(layout.walEvents, 1),
    walRecord({ event_id: 'kept', ts: '2026-11-20T10:00:00.000Z' }),
  );
  const path = segmentPath(layout.walEvents, gone);
  const restore = () => writeFileSync(path, walRecord({ event_id: 'gone', ts: '2026-11-20T10:00:00.000Z' }));
  restore();
  let asked = 0;
  return {
    path,
    retiring(file) {
      if (file === path && ++asked % 2 === 0) rmSync(path);
      return false;
    },
    restore,
  };
}

/**
 * The lines lake/_rejects/<source> holds, every day's, in the order written (each with its reason
 * and raw text); Fields types what else a test reads of them.
 */
export function lakeRejects<Fields extends object = object>(
  layout: { rejects: string },
  source: string,
): Array<{ reason: string; raw: string } & Fields> {
  const dir = join(layout.rejects, source);
  return readdirSync(dir)
    .sort()
    .flatMap((day) =>
      readdirSync(join(dir, day))
        .sort()
        .flatMap((file) =>
          readFileSync(join(dir, day, file), 'utf8')
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l) as { reason: string; raw: string } & Fields),
        ),
    );
}
