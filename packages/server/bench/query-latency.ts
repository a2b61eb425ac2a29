// What the query engine's process costs: the latency of a small POST /api/query (median of many,
// one at a time, over a real socket) and the resident memory of the server and its children at
// rest. Runs the inlet command (the bundle, as deployed) on a port of its own.
// With `engines`, the engine alone instead: a query to the engine in this process and one to the
// engine in a process of its own, in turns, so that a loaded machine slows both alike.
// npm run bench:query-latency [-- queries port] | [-- engines queries]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../src/config/index.ts';
import { createQueryEngine, createQueryProcess } from '../src/engine/index.ts';
import { dataLayout } from '../src/lake/index.ts';
import { createSilentLogger } from '../src/log/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'inlet-query-latency-'));
const median = (times: number[]) => {
  const sorted = [...times].sort((a, b) => a - b);
  return (sorted[Math.floor((sorted.length - 1) / 2)] ?? 0).toFixed(3);
};

if (process.argv[2] === 'engines') {
  const queries = Number(process.argv[3] ?? 2000);
  const config = parseConfig({ data_dir: dir });
  const layout = dataLayout(dir);
  const inProcess = await createQueryEngine({ config, layout });
  const ownProcess = await createQueryProcess({ config, layout, logger: createSilentLogger() });
  const times = { in_process_ms: [] as number[], own_process_ms: [] as number[] };
  for (let i = 0; i < queries + 100; i++)
    for (const [name, engine] of [
      ['in_process_ms', inProcess],
      ['own_process_ms', ownProcess],
    ] as const) {
      const started = performance.now();
      await engine.query('SELECT 42 AS answer');
      if (i >= 100) times[name].push(performance.now() - started);
    }
  console.log(
    JSON.stringify({
      queries,
      in_process_median_ms: median(times.in_process_ms),
      own_process_median_ms: median(times.own_process_ms),
    }),
  );
  inProcess.close();
  ownProcess.close();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}

const queries = Number(process.argv[2] ?? 500);
const port = Number(process.argv[3] ?? 18110);
const token = 'bench-token-bench-token-bench-token';
writeFileSync(
  join(dir, 'inlet.yaml'),
  `data_dir: ${join(dir, 'data')}\nserver:\n  host: 127.0.0.1\n  port: ${port}\n`,
);
const inlet = join(import.meta.dirname, '..', 'bin', 'inlet.cjs');
const server = spawn(process.execPath, [inlet, 'start', '--config', join(dir, 'inlet.yaml')], {
  env: { ...process.env, INLET_API_TOKEN: token },
  stdio: ['ignore', 'pipe', 'inherit'],
});
await new Promise<void>((resolve, reject) => {
  server.stdout?.on('data', (chunk: Buffer) => {
    if (chunk.toString().includes('inlet is listening')) resolve();
  });
  server.on('exit', (code) => reject(new Error(`inlet exited with ${code}`)));
});

const rssMb = (pid: number) =>
  Number(/VmRSS:\s*(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
// Proportional: pages shared with the server (Node's binary, DuckDB's library) count half to each.
const pssMb = (pid: number) =>
  Number(/Pss:\s*(\d+)/.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0) / 1024;
const children = (pid: number) =>
  readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);

const query = async () => {
  const answer = await fetch(`http://127.0.0.1:${port}/api/query`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sql: 'SELECT 42 AS answer' }),
  });
  if (!answer.ok) throw new Error(`query failed with ${answer.status}: ${await answer.text()}`);
  await answer.json();
};

for (let i = 0; i < 50; i++) await query();
const times: number[] = [];
for (let i = 0; i < queries; i++) {
  const started = performance.now();
  await query();
  times.push(performance.now() - started);
}
times.sort((a, b) => a - b);
const at = (q: number) => (times[Math.floor(q * (times.length - 1))] ?? 0).toFixed(2);
// At rest: a few seconds for DuckDB's allocator to give freed pages back.
await new Promise((resolve) => setTimeout(resolve, 3000));
const pid = server.pid ?? 0;
const own = rssMb(pid);
// Named by their script: the query engine's process, or esbuild's service when the bundle was built at start.
const kids = children(pid).map((child) => {
  const script = readFileSync(`/proc/${child}/cmdline`, 'utf8').split('\0').filter(Boolean).at(-1) ?? '';
  return { script: script.split('/').at(-1), mb: rssMb(child), pss: pssMb(child) };
});
const engines = kids.filter((kid) => kid.script?.startsWith('query-process'));
const engineMb = engines.reduce((a, b) => a + b.mb, 0);
const enginePss = engines.reduce((a, b) => a + b.pss, 0);
console.log(
  JSON.stringify({
    queries,
    median_ms: at(0.5),
    p90_ms: at(0.9),
    server_rss_mb: own.toFixed(0),
    children_rss_mb: Object.fromEntries(kids.map((kid) => [kid.script, kid.mb.toFixed(0)])),
    server_and_engine_rss_mb: (own + engineMb).toFixed(0),
    server_and_engine_pss_mb: (pssMb(pid) + enginePss).toFixed(0),
  }),
);
server.kill('SIGTERM');
await new Promise((resolve) => server.on('exit', resolve));
rmSync(dir, { recursive: true, force: true });
