// What checking the WAL's checksums costs the events view: query times over a WAL of many records
// not loaded yet (sealed segments and the open one), the first query (every segment verified), the
// next ones (nothing new to verify) and one after records were appended to the open segment.
// npm run bench:wal-view [-- records segments]
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../src/config/index.ts';
import { createQueryEngine, createWalViewCheck } from '../src/engine/index.ts';
import { serializeEventRecord } from '../src/events/index.ts';
import { dataLayout } from '../src/lake/index.ts';
import { encodeRecords, segmentPath } from '../src/wal/index.ts';

const records = Number(process.argv[2] ?? 200_000);
const segments = Number(process.argv[3] ?? 5);
const dir = mkdtempSync(join(tmpdir(), 'inlet-wal-view-'));
const config = parseConfig({ data_dir: dir });
const layout = dataLayout(dir);
mkdirSync(layout.walEvents, { recursive: true });

const batch = (from: number, count: number) =>
  encodeRecords(
    Array.from({ length: count }, (_, i) =>
      serializeEventRecord({
        event_id: `e-${from + i}-${'x'.repeat(20)}`,
        site: 'docs',
        type: 'track',
        name: 'signup',
        ts: '2026-11-20T10:00:00.000Z',
        received_at: new Date(Date.now() - 60_000 + i).toISOString(),
        anonymous_id: `a-${(from + i) % 5000}`,
        url: `https://docs.example.com/guide/${(from + i) % 300}`,
        device_type: 'desktop',
        is_bot: false,
        properties: { plan: 'pro', n: from + i },
        dt: '2026-11-20',
      }),
    ),
  );
const perSegment = Math.ceil(records / segments);
let bytes = 0;
for (let s = 0; s < segments; s++) {
  const data = batch(s * perSegment, Math.min(perSegment, records - s * perSegment));
  bytes += data.length;
  writeFileSync(segmentPath(layout.walEvents, s + 1), data);
}

// The check alone, as a new engine makes it: every segment verified, then nothing new.
const check = createWalViewCheck(layout.walEvents);
const checkMs: number[] = [];
for (let i = 0; i < 3; i++) {
  const started = performance.now();
  await check.files();
  checkMs.push(Math.round(performance.now() - started));
}

const engine = await createQueryEngine({ config, layout });
const sql =
  "SELECT count(*)::INTEGER, count(DISTINCT anonymous_id)::INTEGER FROM events WHERE name = 'signup'";
const timed = async () => {
  const started = performance.now();
  const { rows } = await engine.query(sql);
  return { ms: Math.round(performance.now() - started), rows: rows[0] };
};
const first = await timed();
const next: number[] = [];
for (let i = 0; i < 5; i++) next.push((await timed()).ms);
appendFileSync(segmentPath(layout.walEvents, segments), batch(records, 1000));
const appended = await timed();
console.log(
  JSON.stringify({
    records,
    wal_mb: Math.round(bytes / 2 ** 20),
    check_ms: checkMs,
    first_ms: first.ms,
    next_ms: next,
    after_append_ms: appended.ms,
    rows: appended.rows,
  }),
);
engine.close();
rmSync(dir, { recursive: true, force: true });
