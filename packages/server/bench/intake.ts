// npm run bench:intake: the collector's CPU per event on its pure path, in this process: a 100-event
// Segment batch parsed (JSON and fields), then enriched and encoded as WAL records, as intake does
// for every request. No HTTP and no disk, so the figure moves only with the code and the CPU's speed:
// the one to compare two versions by, run after each other on the same machine.
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEnricher, createRecordEncoder, parseJsonBody, parseSegment } from '../src/collect/index.ts';
import { parseConfig } from '../src/config/index.ts';
import { benchMessage, BENCH_ORIGIN as ORIGIN } from './events.ts';

const KEY = 'wk_bench_0001';
const BATCHES = Number(process.env.BENCH_BATCHES ?? 20_000);
const UA =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

// The events bench:ingest sends (varied as real traffic; BENCH_ALIKE=1 for the alike ones), each
// with its own id and a timestamp 15 s apart.
const ALIKE = process.env.BENCH_ALIKE === '1';
const message = (i: number) => ({
  ...benchMessage(i, ALIKE),
  messageId: `bench-${i}`,
  timestamp: new Date(Date.now() - i * 15_000).toISOString(),
});

const dir = mkdtempSync(join(tmpdir(), 'inlet-bench-intake-'));
const config = parseConfig({ data_dir: dir, sites: [{ id: 'bench', write_key: KEY }] }, { env: {} });
const encoder = createRecordEncoder({ config, enrich: createEnricher({ saltDir: join(dir, 'salts') }) });
const body = Buffer.from(JSON.stringify({ batch: Array.from({ length: 100 }, (_, i) => message(i)) }));

let parseMs = 0;
let encodeMs = 0;
let recordBytes = 0;
const run = (batches: number) => {
  for (let i = 0; i < batches; i++) {
    const t0 = performance.now();
    const parsed = parseSegment(parseJsonBody(body), undefined);
    const t1 = performance.now();
    const meta = { receivedAt: Date.now(), ip: '203.0.113.5', userAgent: UA, origin: ORIGIN };
    recordBytes += encoder.prepare(parsed, meta, KEY).records.length;
    encodeMs += performance.now() - t1;
    parseMs += t1 - t0;
  }
};

run(BATCHES / 5); // warm-up: let the JIT settle
parseMs = 0;
encodeMs = 0;
recordBytes = 0;
const started = performance.now();
run(BATCHES);
const totalMs = performance.now() - started;
rmSync(dir, { recursive: true, force: true });

const perEvent = (ms: number) => ((ms * 1000) / (BATCHES * 100)).toFixed(2);
console.log(`inlet bench:intake — ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`);
console.log(
  `${BATCHES * 100} events in 100-event batches: ${perEvent(totalMs)} µs an event ` +
    `(parse ${perEvent(parseMs)}, enrich + encode ${perEvent(encodeMs)}), ` +
    `${Math.round(recordBytes / BATCHES / 100)} bytes a WAL record`,
);
