// npm run chaos: the crash test's promise at length. Clients send batches (and retries of batches
// already acknowledged) to `inlet start` while it is killed with SIGKILL again and again at random
// moments, mid-write, mid-load and mid-compaction; then inlet is started once more and queried at
// once, while its loader drains the backlog, and again once the WAL is empty. Every acknowledged
// event must be in `events` exactly once. Prints what it did and exits 1 if any event is missing or
// repeated, so it can run as a nightly job. CHAOS_KILLS (12), CHAOS_SEED (random, printed) and
// CHAOS_CLIENTS (8) change the run; CHAOS_KEEP=1 keeps its data directory. CHAOS_READERS (1) clients
// query `events` all along, so the loader defers deleting loaded segments while they read, and
// deletions then run in any order.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exited, freePort, startInletProcess } from '../test/inlet-process.ts';

const KEY = 'wk_chaos_0001';
const TOKEN = 'chaos-token-0123456789abcdef';
const KILLS = Number(process.env.CHAOS_KILLS ?? 12);
const CLIENTS = Number(process.env.CHAOS_CLIENTS ?? 8);
const READERS = Number(process.env.CHAOS_READERS ?? 1);
const SEED = Number(process.env.CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31) + 1);

/** xorshift32: the same seed gives the same kill times and retries. */
function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/** Every event id in `events` with how often it is there, through the CSV export (no row cap). */
async function idCounts(url: string): Promise<Map<string, number>> {
  const response = await fetch(`${url}/api/query?format=csv`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({
      sql: "SELECT event_id, count(*) AS n FROM events WHERE event_id LIKE 'k-%' GROUP BY ALL",
    }),
  });
  if (!response.ok) throw new Error(`query failed: ${response.status} ${await response.text()}`);
  const counts = new Map<string, number>();
  for (const line of (await response.text()).split('\n').slice(1)) {
    const [id, n] = line.split(',');
    if (id) counts.set(id, Number(n));
  }
  return counts;
}

async function walWaitingBytes(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^inlet_wal_bytes\s+(\S+)/m.exec(text)?.[1] ?? Number.NaN);
}

function verdict(label: string, counts: Map<string, number>, acknowledged: Set<string>) {
  const missing = [...acknowledged].filter((id) => !counts.has(id));
  const repeated = [...counts].filter(([, n]) => n > 1);
  console.log(
    `${label}: ${counts.size.toLocaleString('en-US')} distinct ids in events, ` +
      `${missing.length} acknowledged missing, ${repeated.length} repeated` +
      (missing.length > 0 ? ` (e.g. ${missing.slice(0, 5).join(', ')})` : '') +
      (repeated.length > 0
        ? ` (e.g. ${repeated
            .slice(0, 5)
            .map(([id, n]) => `${id}×${n}`)
            .join(', ')})`
        : ''),
  );
  return missing.length === 0 && repeated.length === 0;
}

async function main() {
  const rand = random(SEED);
  const dir = mkdtempSync(join(tmpdir(), 'inlet-chaos-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const config = join(dir, 'inlet.yaml');
  // Small segments, a fast loader and eager compaction, so kills land in every phase.
  writeFileSync(
    config,
    `data_dir: ./data\nserver: { host: 127.0.0.1, port: ${port} }\nsites:\n  - id: chaos\n    write_key: ${KEY}\n` +
      'limits: { per_ip_per_second: 0, per_write_key_per_second: 0 }\n' +
      'wal: { segment_bytes: 1048576, seal_after_ms: 300 }\nloader: { interval_ms: 100, compact_min_files: 3 }\n' +
      'models: { builtin: false }\n',
  );
  console.log(
    `inlet chaos: ${KILLS} SIGKILLs, ${CLIENTS} clients, ${READERS} readers, seed ${SEED}, data in ${dir}`,
  );

  const acknowledged = new Set<string>();
  const ackList: string[] = [];
  let next = 0;
  let sent = 0;
  let retried = 0;
  const started = performance.now();
  for (let round = 0; round < KILLS; round++) {
    const child = await startInletProcess(config, url, TOKEN);
    let stop = false;
    const client = async () => {
      while (!stop) {
        const ids = Array.from({ length: 20 + Math.floor(rand() * 80) }, () => `k-${next++}`);
        // A client that retries a batch it already got a 2xx for: it must not count twice.
        if (ackList.length > 0 && rand() < 0.3) {
          ids.push(ackList[Math.floor(rand() * ackList.length)] as string);
          retried++;
        }
        sent += ids.length;
        try {
          const response = await fetch(`${url}/v1/batch`, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              authorization: `Basic ${Buffer.from(`${KEY}:`).toString('base64')}`,
            },
            body: JSON.stringify({
              batch: ids.map((id) => ({
                type: 'track',
                event: 'chaos',
                messageId: id,
                anonymousId: 'chaos-client',
                properties: { pad: 'x'.repeat(200) },
              })),
            }),
          });
          if (response.status === 200) {
            for (const id of ids) {
              if (!acknowledged.has(id)) ackList.push(id);
              acknowledged.add(id);
            }
          } else await response.arrayBuffer();
        } catch {
          // Killed mid-request: not acknowledged, so a real client would send it again later.
        }
      }
    };
    const reader = async () => {
      while (!stop) {
        try {
          const response = await fetch(`${url}/api/query`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
            body: JSON.stringify({ sql: "SELECT count(*) FROM events WHERE event_id LIKE 'k-%'" }),
          });
          await response.arrayBuffer();
        } catch {
          // Killed mid-query.
        }
      }
    };
    const clients = [
      ...Array.from({ length: CLIENTS }, () => client()),
      ...Array.from({ length: READERS }, () => reader()),
    ];
    const runMs = 300 + Math.floor(rand() * 2200);
    await new Promise((resolve) => setTimeout(resolve, runMs));
    child.kill('SIGKILL');
    stop = true;
    await Promise.all(clients);
    await exited(child);
    console.log(
      `kill ${round + 1}/${KILLS} after ${runMs} ms: ${acknowledged.size.toLocaleString('en-US')} acknowledged so far`,
    );
  }
  const sendSeconds = (performance.now() - started) / 1000;
  console.log(
    `sent ${sent.toLocaleString('en-US')} events in ${sendSeconds.toFixed(1)} s (${retried} retries of acknowledged ones); ` +
      `${acknowledged.size.toLocaleString('en-US')} distinct acknowledged`,
  );

  const child = await startInletProcess(config, url, TOKEN);
  let ok = false;
  try {
    const backlog = await walWaitingBytes(url);
    ok = verdict(
      `at once after restart (${(backlog / 2 ** 20).toFixed(1)} MB of WAL to load)`,
      await idCounts(url),
      acknowledged,
    );
    const deadline = Date.now() + 120_000;
    while ((await walWaitingBytes(url)) > 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 250));
    ok = verdict('once the WAL was loaded', await idCounts(url), acknowledged) && ok;
  } finally {
    child.kill('SIGTERM');
    await exited(child);
    if (process.env.CHAOS_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
  }
  console.log(ok ? 'ok: every acknowledged event exactly once' : `FAILED (seed ${SEED})`);
  process.exitCode = ok ? 0 : 1;
}

await main();
