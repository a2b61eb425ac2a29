// Peak memory (RSS high-water mark) of one POST /api/query whose JSON answer is about 100 MB, the
// answer's byte cap, over a real socket. Run once per measurement: the high-water mark never falls.
// npm run bench:query-memory [-- rows width]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../src/config/index.ts';
import { queryEngineApp } from '../test/helpers.ts';

const rows = Number(process.argv[2] ?? 100_000);
const width = Number(process.argv[3] ?? 1000);
const token = 'bench-token-bench-token-bench-token';
const peakMb = () => Number(/VmHWM:\s*(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]) / 1024;

const dir = mkdtempSync(join(tmpdir(), 'inlet-query-memory-'));
const config = parseConfig({ data_dir: dir, query: { max_rows: rows } });
// The engine in this process, so that its high-water mark is the whole query's.
const { engine, app } = await queryEngineApp(config, token, { inProcess: true });
await app.listen({ port: 0, host: '127.0.0.1' });
const { port } = app.server.address() as { port: number };
await engine.query('SELECT 1');
const before = peakMb();
const started = performance.now();
const received = await new Promise<number>((resolve, reject) => {
  const body = JSON.stringify({ sql: `SELECT i, repeat('x', ${width}) AS text FROM range(${rows}) t(i)` });
  const req = request(
    {
      port,
      host: '127.0.0.1',
      method: 'POST',
      path: '/api/query',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    },
    (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      res.on('end', () => resolve(bytes));
      res.on('error', reject);
    },
  );
  req.on('error', reject);
  req.end(body);
});
console.log(
  `answer ${(received / 1024 / 1024).toFixed(1)} MB in ${Math.round(performance.now() - started)} ms; peak RSS ${before.toFixed(0)} MB before, ${peakMb().toFixed(0)} MB after`,
);
await app.close();
engine.close();
rmSync(dir, { recursive: true, force: true });
