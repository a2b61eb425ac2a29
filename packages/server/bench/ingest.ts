// npm run bench:ingest: inlet's collector against a bare Node http server under the same load,
// then the loader (WAL → Parquet) on its own. Prints figures; it asserts nothing.
import '../bin/environment.cjs';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { createEnricher } from '../src/collect/index.ts';
import { parseConfig } from '../src/config/index.ts';
import { serializeEventRecord } from '../src/events/index.ts';
import { createLoader, dataLayout } from '../src/lake/index.ts';
import { createSilentLogger } from '../src/log/index.ts';
import { createMetrics } from '../src/metrics/index.ts';
import { createWalWriter, encodeRecord } from '../src/wal/index.ts';
import { benchMessage, BENCH_ORIGIN as ORIGIN } from './events.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const DURATION = Number(process.env.BENCH_SECONDS ?? 10);
// BENCH_CONNECTIONS=50,100,200 runs each load at each count of connections (closed loop: a connection
// sends its next request when the last is answered, so a server that waits for fdatasync is bound
// by connections ÷ latency, and more clients at once give group commit more to share a sync).
const CONNECTIONS = (process.env.BENCH_CONNECTIONS ?? '50').split(',').map(Number);
if (!CONNECTIONS.every((count) => Number.isInteger(count) && count > 0)) {
  throw new Error(
    `BENCH_CONNECTIONS=${process.env.BENCH_CONNECTIONS}: give whole counts over 0, e.g. 50,100,200`,
  );
}
const KEY = 'wk_bench_0001';
const AUTH = `Basic ${Buffer.from(`${KEY}:`).toString('base64')}`;
const UA =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

const ALIKE = process.env.BENCH_ALIKE === '1';
const message = (i: number) => benchMessage(i, ALIKE);

function waitForLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    child.stdout?.on('data', (chunk) => {
      buffer += chunk;
      if (buffer.includes('\n')) resolve(buffer.split('\n')[0] as string);
    });
    child.once('exit', (code) => reject(new Error(`process exited with ${code}`)));
  });
}

/** Sends SIGTERM and resolves once the process has exited. */
function stopped(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  return exited;
}

/** CPU seconds (user + system, every thread) a process has used so far. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  // utime and stime, fields 14 and 15 of stat, in clock ticks (100 a second on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Runs fn and returns its result with the CPU microseconds the process spent per event meanwhile. */
async function withCpu<T extends { ok: number }>(pid: number, events: number, fn: () => Promise<T>) {
  const before = cpuSeconds(pid);
  const result = await fn();
  return { ...result, cpuPerEvent: ((cpuSeconds(pid) - before) * 1e6) / Math.max(1, result.ok * events) };
}

/** A process's RSS in MB; 0 once it is gone. */
function rssMb(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

/**
 * The pid of the server's query engine process (people's SQL runs in a child of the server, see
 * engine/query-process.ts), whose RSS is apart from the server's; undefined when there is none.
 */
function queryProcessPid(server: number): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === server && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('query-process'))
        return Number(entry);
    } catch {
      // Gone meanwhile.
    }
  }
  return undefined;
}

/** Samples a process's RSS while fn runs; returns fn's result and the peak in MB. */
async function withRss<T>(pid: number, fn: () => Promise<T>): Promise<[T, number]> {
  let peak = 0;
  const sample = () => {
    peak = Math.max(peak, rssMb(pid));
  };
  const timer = setInterval(sample, 100);
  try {
    return [await fn(), peak];
  } finally {
    clearInterval(timer);
    sample();
  }
}

/** The body with a new id in place of each [<id>], per call. */
function uniqueBodies(template: string): () => string {
  const parts = template.split('[<id>]');
  let sequence = 0;
  return () => parts.join(`r${(sequence++).toString(36)}`);
}

async function load(url: string, path: string, body: string, connections: number) {
  // A request is built afresh for every call: autocannon's own idReplacement gets Content-Length
  // wrong for its URL-safe ids. The same requests go to the bare server, so both pay the cost.
  const nextBody = uniqueBodies(body);
  const result = await autocannon({
    url,
    connections,
    pipelining: 1,
    duration: DURATION,
    requests: [
      {
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json', authorization: AUTH, origin: ORIGIN },
        setupRequest: (request) => ({ ...request, body: nextBody() }),
      },
    ],
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    ok: result['2xx'],
    errors: result.non2xx + result.errors + result.timeouts,
  };
}

/** inlet's event loop delay figures from /metrics: the longest since the previous scrape, and the histogram. */
async function loopDelay(url: string) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const read = (name: string) => Number(new RegExp(`^${name} ([\\d.e+-]+)$`, 'm').exec(text)?.[1] ?? 0);
  const over = (le: string) =>
    read('inlet_event_loop_delay_seconds_count') -
    read(`inlet_event_loop_delay_seconds_bucket\\{le="${le}"\\}`);
  return { max: read('inlet_event_loop_delay_max_seconds'), over25: over('0.025'), over100: over('0.1') };
}

// BENCH_SPLIT=1 runs the loader as its own process (inlet start --role loader), so the RSS printed is
// the collector's alone; by default everything runs in one process, inlet's embedded default.
const SPLIT = process.env.BENCH_SPLIT === '1';

async function startInletChild(
  dir: string,
): Promise<{ child: ChildProcess; url: string; loader?: ChildProcess }> {
  const port = 18000 + Math.floor(Math.random() * 1000);
  writeFileSync(
    join(dir, 'inlet.yaml'),
    `data_dir: ./data\nserver: { host: 127.0.0.1, port: ${port} }\nsites:\n  - id: bench\n    write_key: ${KEY}\nlimits: { per_ip_per_second: 0, per_write_key_per_second: 0 }\nloader: { interval_ms: ${process.env.BENCH_LOADER_INTERVAL_MS ?? 1000} }\n${process.env.BENCH_WORKERS ? `collector: { workers: ${Number(process.env.BENCH_WORKERS)} }\n` : ''}`,
  );
  const start = (roles: string[]) =>
    spawn(
      process.execPath,
      [
        join(ROOT, 'packages', 'server', 'bin', 'inlet.cjs'),
        'start',
        '--config',
        join(dir, 'inlet.yaml'),
        ...roles,
      ],
      {
        env: { ...process.env, INLET_API_TOKEN: 'bench-token-0123456789', INLET_LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
  const child = start(SPLIT ? ['--role', 'collector,web,scheduler'] : []);
  const loader = SPLIT ? start(['--role', 'loader']) : undefined;
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) return { child, url, loader };
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error('inlet did not start');
}

/** A loader of its own over a new data directory, and a way to fill its WAL with bench events. */
async function loaderBench() {
  const dir = mkdtempSync(join(tmpdir(), 'inlet-bench-loader-'));
  // BENCH_LOADER_THREADS sets loader.threads, e.g. for a loader role that has the machine to itself.
  const threads = process.env.BENCH_LOADER_THREADS ? Number(process.env.BENCH_LOADER_THREADS) : undefined;
  const config = parseConfig(
    { data_dir: dir, sites: [{ id: 'bench', write_key: KEY }], loader: { threads } },
    { env: {} },
  );
  const layout = dataLayout(config.data_dir);
  const segmentBytes = Number(process.env.BENCH_SEGMENT_MB ?? 64) * 2 ** 20;
  const wal = createWalWriter({ dir: layout.walEvents, segmentBytes, maxBytes: 2 ** 40 });
  const enrich = createEnricher({ saltDir: layout.salts });
  const meta = { receivedAt: Date.now(), ip: '203.0.113.5', userAgent: UA, origin: ORIGIN };
  const { parseSegment } = await import('../src/collect/index.ts');
  /** Appends count events to the WAL, client timestamps daysAgo days back, and seals the segment. */
  const fill = async (count: number, prefix: string, daysAgo: number) => {
    const timestamp = new Date(Date.now() - daysAgo * 86_400_000).toISOString();
    for (let start = 0; start < count; start += 2_000) {
      const batch = Array.from({ length: Math.min(2_000, count - start) }, (_, i) => ({
        ...message(start + i),
        messageId: `${prefix}-${start + i}`,
        timestamp,
      }));
      const parsed = parseSegment({ batch }, undefined);
      await wal.append(
        parsed.events.map((e) => encodeRecord(serializeEventRecord(enrich('bench', e, meta)))).join(''),
      );
    }
    await wal.seal();
  };
  const metrics = createMetrics();
  const loader = await createLoader({
    config,
    layout,
    wal,
    logger: createSilentLogger(),
    metrics,
    // BENCH_BESIDE_COLLECTOR=1: as where the collector shares the process (checksums on their own
    // thread, and DuckDB's threads one fewer than the cores unless BENCH_LOADER_THREADS says).
    besideCollector: process.env.BENCH_BESIDE_COLLECTOR === '1',
  });
  const close = async () => {
    await loader.stop();
    await wal.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return { wal, fill, metrics, loader, close };
}

async function benchLoader(events: number) {
  const { wal, fill, metrics, loader, close } = await loaderBench();
  const rss = () => rssMb(process.pid);
  const baseRss = rss();
  const phase = (name: string) =>
    Number(
      new RegExp(`inlet_loader_seconds_total\\{phase="${name}"\\} ([\\d.e-]+)`).exec(metrics.render())?.[1] ??
        0,
    );
  // A warm-up segment first, into another day's partition: the first load of a process also pays
  // for DuckDB's and the JIT's start (~0.3 s, once), which is not the rate a running loader keeps.
  await fill(20_000, 'warm', 2);
  const warmStarted = performance.now();
  const [, warmPeak] = await withRss(process.pid, () => loader.runOnce());
  const warmSeconds = (performance.now() - warmStarted) / 1000;
  const [loadBefore, compactBefore] = [phase('load'), phase('compact')];
  const walBefore = wal.bytes();
  await fill(events, 'load', 0);
  const walBytes = wal.bytes() - walBefore;
  const started = performance.now();
  // How long the loader holds the event loop at a time: in one process, the collector's requests wait as long.
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const cpuBefore = process.cpuUsage();
  const [results, peakRss] = await withRss(process.pid, () => loader.runOnce());
  const cpu = process.cpuUsage(cpuBefore);
  delay.disable();
  const seconds = (performance.now() - started) / 1000;
  await close();
  return {
    rows: results.reduce((sum, r) => sum + r.rows, 0),
    seconds,
    // Every thread's (the checks on the main thread, DuckDB's copies): work, which a machine that other
    // processes load does not inflate as it does the wall clock.
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    warmSeconds,
    loadSeconds: phase('load') - loadBefore,
    compactSeconds: phase('compact') - compactBefore,
    walBytes,
    rssGrowth: Math.max(warmPeak, peakRss) - baseRss,
    loopMaxMs: delay.max / 1e6,
    loopP99Ms: delay.percentile(99) / 1e6,
  };
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

// After the runs, the process is watched idle for BENCH_IDLE_SECONDS: what its RSS comes back to once
// the loader has caught up and DuckDB has given back what it freed.
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 20);

/** inlet's RSS each few seconds after the load stopped, and when the loader had loaded every sealed segment. */
async function idleTimeline(pid: number, url: string): Promise<string> {
  const started = performance.now();
  const marks = [1, 5, 10, 20, 30, 60, 120].filter((s) => s < IDLE_SECONDS).concat(IDLE_SECONDS);
  const seen: string[] = [];
  let caughtUp: number | undefined;
  let peak = 0;
  for (const mark of marks) {
    while ((performance.now() - started) / 1000 < mark) {
      peak = Math.max(peak, rssMb(pid));
      if (caughtUp === undefined && !SPLIT) {
        const metrics = await (await fetch(`${url}/metrics`)).text();
        const lag = /^inlet_loader_lag_seconds ([\d.e+-]+)$/m.exec(metrics)?.[1];
        if (lag !== undefined && Number(lag) === 0) caughtUp = (performance.now() - started) / 1000;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    seen.push(`${mark} s ${fmt(rssMb(pid))} MB`);
  }
  const loaderLine = SPLIT
    ? ''
    : caughtUp === undefined
      ? `; the loader had not loaded every sealed segment after ${IDLE_SECONDS} s`
      : `; the loader had loaded every sealed segment after ${caughtUp.toFixed(1)} s`;
  return `inlet ${SPLIT ? 'collector process' : 'process'} idle after the runs: RSS at ${seen.join(', ')} (peak meanwhile ${fmt(peak)} MB)${loaderLine}`;
}

/**
 * BENCH_ONLY=dedup: what a small load pays for checking the days before it in the dedup window. Each
 * of the two days before today gets BENCH_DAY_EVENTS events, then 12 loads of 10,000 of today's
 * events are timed (the first two, which read the filters from disk, left out).
 */
async function reportDedupDays() {
  const perDay = Number(process.env.BENCH_DAY_EVENTS ?? 3_000_000);
  const { fill, loader, close } = await loaderBench();
  for (const daysAgo of [2, 1]) {
    for (let done = 0; done < perDay; done += 500_000)
      await fill(Math.min(500_000, perDay - done), `d${daysAgo}-${done}`, daysAgo);
    await loader.runOnce();
  }
  const times: number[] = [];
  for (let i = 0; i < 12; i++) {
    await fill(10_000, `today-${i}`, 0);
    const started = performance.now();
    await loader.runOnce();
    times.push(performance.now() - started);
  }
  await close();
  const timed = times.slice(2).sort((a, b) => a - b);
  console.log(
    `loads of 10,000 of today's events with ${fmt(perDay)} events on each of the two days before: ` +
      `median ${fmt(timed[timed.length >> 1] as number)} ms (${fmt(timed[0] as number)}–${fmt(timed.at(-1) as number)} ms, compactions included)`,
  );
}

async function main() {
  if (process.env.BENCH_ONLY === 'loader') return reportLoader();
  if (process.env.BENCH_ONLY === 'dedup') return reportDedupDays();
  console.log(
    `inlet bench:ingest — ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${fmt(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
  );
  console.log(
    `autocannon: ${CONNECTIONS.join(' / ')} connections, keep-alive, no pipelining, ${DURATION} s a run\n`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'inlet-bench-'));
  const bare = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'bare-server.ts')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const barePort = JSON.parse(await waitForLine(bare)).port as number;
  const bareUrl = `http://127.0.0.1:${barePort}`;
  const { child, url, loader } = await startInletChild(dir);
  console.log(
    SPLIT
      ? 'inlet: collector, web and scheduler in one process, the loader in another'
      : 'inlet: every role in one process (the embedded default)',
  );
  console.log(`intake workers: ${process.env.BENCH_WORKERS ?? 'default (cores beyond two)'}\n`);
  const single = JSON.stringify(message(1));
  const batch = JSON.stringify({ batch: Array.from({ length: 100 }, (_, i) => message(i)) });

  const rows: string[][] = [];
  const stalls: string[] = [];
  let peakRss = 0;
  const queryPid = queryProcessPid(child.pid as number);
  let queryPeak = 0;
  // BENCH_LOADS=batch (or single) runs one load alone, for quick comparisons of two versions.
  const loads = (process.env.BENCH_LOADS ?? 'single,batch').split(',');
  const runs = (
    [
      ['single event', '/v1/track', single, 1],
      ['100-event batch', '/v1/batch', batch, 100],
    ] as const
  )
    .filter(([, , , events]) => loads.includes(events === 1 ? 'single' : 'batch'))
    .flatMap((run) => CONNECTIONS.map((connections) => [...run, connections] as const));
  for (const [label, path, body, events, connections] of runs) {
    const base = await withCpu(bare.pid as number, events, () => load(bareUrl, path, body, connections));
    const delayBefore = await loopDelay(url);
    const [[ours, rss], queryRss] = await withRss(queryPid ?? 0, () =>
      withRss(child.pid as number, () =>
        withCpu(child.pid as number, events, () => load(url, path, body, connections)),
      ),
    );
    queryPeak = Math.max(queryPeak, queryRss);
    const delay = await loopDelay(url);
    stalls.push(
      `${label} (${connections}): longest ${fmt(delay.max * 1000)} ms, ${fmt(delay.over25 - delayBefore.over25)} over 25 ms, ` +
        `${fmt(delay.over100 - delayBefore.over100)} over 100 ms`,
    );
    peakRss = Math.max(peakRss, rss);
    rows.push([
      label,
      `${connections}`,
      'bare node',
      fmt(base.rps * events),
      `${base.p50}`,
      `${base.p99}`,
      '',
      base.cpuPerEvent.toFixed(1),
      `${base.errors}`,
    ]);
    rows.push([
      label,
      `${connections}`,
      'inlet (fsync)',
      fmt(ours.rps * events),
      `${ours.p50}`,
      `${ours.p99}`,
      (ours.rps / base.rps).toFixed(2),
      ours.cpuPerEvent.toFixed(1),
      `${ours.errors}`,
    ]);
  }
  const header = [
    'load',
    'connections',
    'server',
    'events/s',
    'p50 ms',
    'p99 ms',
    'inlet ÷ bare',
    'CPU µs/event',
    'errors',
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  for (const r of [header, ...rows]) console.log(r.map((c, i) => c.padEnd(widths[i] as number)).join('  '));
  console.log(`\ninlet ${SPLIT ? 'collector process' : 'process'} peak RSS under load: ${fmt(peakRss)} MB`);
  console.log(
    queryPid === undefined
      ? "inlet's query engine process: none found"
      : `inlet's query engine process (people's SQL, a child of the server; no queries ran): ${fmt(queryPeak)} MB peak RSS meanwhile`,
  );
  console.log(`inlet's event loop delay (a 10 ms timer's lateness) — ${stalls.join('; ')}`);
  // Whether the loader kept up: what reached the lake by the end of the runs (counted where the loader
  // shares the collector's process), and the WAL still waiting.
  const metrics = await (await fetch(`${url}/metrics`)).text();
  const metric = (name: string) =>
    Number(new RegExp(`^${name}(?:\\{[^}]*\\})? ([\\d.e+-]+)$`, 'm').exec(metrics)?.[1] ?? 0);
  const waiting = `${fmt(metric('inlet_wal_bytes') / 2 ** 20)} MB of WAL waiting`;
  console.log(
    SPLIT
      ? `loader process meanwhile: ${waiting} when the runs ended`
      : `loader meanwhile: ${fmt(metric('inlet_loader_rows_total'))} of ${fmt(metric('inlet_events_accepted_total'))} ` +
          `accepted events in the lake when the runs ended, ${waiting}`,
  );
  // A loader that died leaves the collector both cores: the figures would not be a split setup's.
  const loaderExit = loader ? (loader.exitCode ?? loader.signalCode) : null;

  if (IDLE_SECONDS > 0) console.log(await idleTimeline(child.pid as number, url));

  // Each exits once it has finished writing, so the directory is removed after the last write.
  await Promise.all([child, loader, bare].map((process) => process && stopped(process)));
  rmSync(dir, { recursive: true, force: true });
  if (loaderExit !== null) throw new Error(`the loader process exited during the runs (${loaderExit})`);

  if (process.env.BENCH_LOADER_EVENTS !== '0') await reportLoader();
}

async function reportLoader() {
  const events = Number(process.env.BENCH_LOADER_EVENTS ?? 1_000_000);
  const loaded = await benchLoader(events);
  console.log(
    `loader: ${fmt(loaded.rows)} events (${fmt(loaded.walBytes / 2 ** 20)} MB of WAL) → Parquet in ${loaded.seconds.toFixed(2)} s = ${fmt(loaded.rows / loaded.seconds)} events/s` +
      `, ${loaded.cpuSeconds.toFixed(2)} s of CPU (${((loaded.cpuSeconds * 1e6) / loaded.rows).toFixed(2)} µs an event)` +
      ` (WAL → Parquet ${loaded.loadSeconds.toFixed(2)} s = ${fmt(loaded.rows / loaded.loadSeconds)} events/s, then compaction ${loaded.compactSeconds.toFixed(2)} s); ` +
      `its peak RSS ${fmt(loaded.rssGrowth)} MB above the process's before it ran; ` +
      `the 20,000-event warm-up before it took ${loaded.warmSeconds.toFixed(2)} s; ` +
      `it held the event loop at most ${loaded.loopMaxMs.toFixed(0)} ms at a time (p99 of a 1 ms timer's delay ${loaded.loopP99Ms.toFixed(1)} ms)`,
  );
}

await main();
process.exit(0);
