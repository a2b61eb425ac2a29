// npm run bench:intake: the collector's CPU per event on its path for 100-event Segment batches, in
// this process: each request's body parsed (JSON and fields), enriched and encoded as WAL records,
// as intake does for every request, then appended to a WAL in a temporary directory, BENCH_IN_FLIGHT
// requests at a time as connections would send them (BENCH_WAL=0 leaves the WAL out; BENCH_VISITORS
// below). No HTTP, so the figure moves only with the code and the CPU's speed: the one to compare two
// versions by, run after each other on the same machine. Under a CPU profile, profile-top.ts says where it went:
//   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx packages/server/bench/intake.ts
//   node --import tsx packages/server/bench/profile-top.ts /tmp/prof/<file>.cpuprofile
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEnricher, createIntake, parseJsonBody, parseSegment } from '../src/collect/index.ts';
import { parseConfig } from '../src/config/index.ts';
import { createMetrics } from '../src/metrics/index.ts';
import { createWalWriter, segmentPath } from '../src/wal/index.ts';
import { benchMessage, BENCH_ORIGIN as ORIGIN } from './events.ts';

const KEY = 'wk_bench_0001';
const BATCHES = Number(process.env.BENCH_BATCHES ?? 20_000);
const IN_FLIGHT = Math.max(1, Number(process.env.BENCH_IN_FLIGHT ?? 50));
const WAL = process.env.BENCH_WAL !== '0';
const UA =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

// The events bench:ingest sends (varied as real traffic; BENCH_ALIKE=1 for the alike ones), each
// with its own id and a timestamp 15 s apart.
const ALIKE = process.env.BENCH_ALIKE === '1';
// BENCH_VISITORS=N (at most 256): the messages name their visitor's IP and user agent in context,
// as a server SDK forwarding N visitors' events does, rather than all taking the request's.
const VISITORS = Math.min(256, Number(process.env.BENCH_VISITORS ?? 0));
const visitor = (i: number) =>
  VISITORS > 0 ? { ip: `198.51.100.${i % VISITORS}`, userAgent: `${UA} bench/${i % 7}` } : {};
const message = (i: number) => {
  const event = benchMessage(i, ALIKE);
  return {
    ...event,
    context: { ...(event.context as object), ...visitor(i) },
    messageId: `bench-${i}`,
    timestamp: new Date(Date.now() - i * 15_000).toISOString(),
  };
};

const dir = mkdtempSync(join(tmpdir(), 'inlet-bench-intake-'));
// No rate limit, as bench:ingest sets none: 50,000 events a second a write key is this bench's pace.
const config = parseConfig(
  {
    data_dir: dir,
    sites: [{ id: 'bench', write_key: KEY }],
    limits: { per_ip_per_second: 0, per_write_key_per_second: 0 },
  },
  { env: {} },
);
const enrich = createEnricher({ saltDir: join(dir, 'salts') });
const segmentBytes = 64 * 2 ** 20;
const walDir = join(dir, 'wal');
const wal = createWalWriter({ dir: walDir, segmentBytes, maxBytes: 2 ** 50 });
// Without the WAL, appending is left out: the encoded records are only counted.
const intake = createIntake({
  config,
  enrich,
  metrics: createMetrics(),
  wal: WAL ? wal : { ...wal, append: async () => {} },
});
const body = Buffer.from(JSON.stringify({ batch: Array.from({ length: 100 }, (_, i) => message(i)) }));

let parseMs = 0;
let encodeMs = 0;
const run = async (batches: number) => {
  for (let done = 0; done < batches; ) {
    const appends: Promise<number>[] = [];
    for (let n = Math.min(IN_FLIGHT, batches - done); n > 0; n--, done++) {
      const t0 = performance.now();
      const parsed = parseSegment(parseJsonBody(body), undefined);
      const t1 = performance.now();
      const meta = { receivedAt: Date.now(), ip: '203.0.113.5', userAgent: UA, origin: ORIGIN };
      // Encodes the records at once; the append resolves once the WAL has synced them.
      appends.push(intake.accept(parsed, meta, KEY));
      encodeMs += performance.now() - t1;
      parseMs += t1 - t0;
    }
    await Promise.all(appends);
    // Sealed and removed as the loader would, so the bench's disk use stays one segment.
    if (wal.bytes() > segmentBytes / 2) {
      await wal.seal();
      for (const id of wal.sealedSegments()) rmSync(segmentPath(walDir, id));
      wal.refresh();
    }
  }
};

await run(BATCHES / 5); // warm-up: let the JIT settle
parseMs = 0;
encodeMs = 0;
const cpu = process.cpuUsage();
const started = performance.now();
await run(BATCHES);
const totalMs = performance.now() - started;
const { user, system } = process.cpuUsage(cpu);
await wal.close();
rmSync(dir, { recursive: true, force: true });

const events = BATCHES * 100;
const perEvent = (ms: number) => ((ms * 1000) / events).toFixed(2);
console.log(`inlet bench:intake — ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`);
console.log(
  `${events} events in 100-event batches, ${IN_FLIGHT} in flight: ` +
    `${perEvent((user + system) / 1000)} µs of CPU an event (every thread's), ${perEvent(totalMs)} µs of time ` +
    `(parse ${perEvent(parseMs)}, enrich + encode ${perEvent(encodeMs)}, ` +
    `${WAL ? 'WAL append and sync' : 'no WAL'} ${perEvent(totalMs - parseMs - encodeMs)})`,
);
