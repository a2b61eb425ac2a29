import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sourceContext, tempDir, testConfig } from '../../../test/helpers.ts';
import { freePort } from '../../../test/inlet-process.ts';
import { createQueryEngine, type QueryEngine } from '../../engine/index.ts';
import { openStateStore, type StateStore } from '../../state/index.ts';
import { createSources } from '../registry.ts';
import type { SourceContext } from '../types.ts';

// A real nginx from Debian's package (apt-get install nginx), run under its own prefix, config,
// pid and logs in a temp dir on a free loopback port: never the system nginx.
const NGINX = '/usr/sbin/nginx';

function nginxConfig(prefix: string, port: number): string {
  const p = (name: string) => join(prefix, name);
  return `worker_processes 1;
pid ${p('nginx.pid')};
error_log ${p('error.log')} warn;
events { worker_connections 256; }
http {
  log_format inlet '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time';
  access_log ${p('logs/access.log')} inlet;
  client_body_temp_path ${p('tmp/body')};
  proxy_temp_path ${p('tmp/proxy')};
  fastcgi_temp_path ${p('tmp/fastcgi')};
  uwsgi_temp_path ${p('tmp/uwsgi')};
  scgi_temp_path ${p('tmp/scgi')};
  server {
    listen 127.0.0.1:${port};
    location / { return 200 "ok\\n"; }
  }
}
`;
}

describe('a real nginx access log', () => {
  // npm test installs nginx first (scripts/ensure-test-deps.sh); a missing one fails rather than skips.
  if (!existsSync(NGINX))
    throw new Error(`${NGINX} is missing: run npm test, which installs it, or apt-get install nginx`);
  const temp = tempDir('inlet-nginx-');
  const prefix = join(temp.dir, 'nginx');
  const accessLog = join(prefix, 'logs', 'access.log');
  const conf = join(prefix, 'nginx.conf');
  let nginx: ChildProcess | undefined;
  let url = '';
  let engine: QueryEngine;
  let state: StateStore;
  let context: SourceContext;
  /** `nginx -s reopen`, as logrotate's postrotate does; resolves once nginx has created the new log. */
  const reopen = async () => {
    execFileSync(NGINX, ['-p', prefix, '-c', conf, '-e', join(prefix, 'error.log'), '-s', 'reopen']);
    for (let i = 0; i < 200 && !existsSync(accessLog); i++) await sleep(10);
    if (!existsSync(accessLog))
      throw new Error(`nginx did not reopen: ${readFileSync(join(prefix, 'error.log'), 'utf8')}`);
  };

  beforeAll(async () => {
    for (const dir of ['logs', 'tmp']) mkdirSync(join(prefix, dir), { recursive: true });
    // Run as root, nginx's workers are nobody and reopen the logs themselves: they must reach them.
    for (const dir of [temp.dir, prefix, join(prefix, 'logs')]) chmodSync(dir, 0o755);
    const port = await freePort();
    writeFileSync(conf, nginxConfig(prefix, port));
    nginx = spawn(NGINX, ['-p', prefix, '-c', conf, '-e', join(prefix, 'error.log'), '-g', 'daemon off;'], {
      stdio: 'ignore',
    });
    url = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 100; i++) {
      if (
        await fetch(`${url}/ready`).then(
          (r) => r.ok,
          () => false,
        )
      )
        break;
      await sleep(50);
    }
    const config = testConfig(join(temp.dir, 'data'), {
      sources: [
        {
          name: 'nginx',
          type: 'file',
          path: accessLog,
          format: 'nginx_combined',
          poll_ms: 50,
          batch_seconds: 0.3,
        },
      ] as never,
    });
    state = openStateStore(join(config.data_dir, 'state.sqlite'));
    context = sourceContext(config, state);
    engine = await createQueryEngine({ config, layout: context.layout });
  });

  afterAll(async () => {
    if (nginx?.exitCode === null) {
      nginx.kill('SIGQUIT');
      await new Promise((resolve) => nginx?.once('exit', resolve));
    }
    engine?.close();
    state?.close();
    temp.cleanup();
  });

  it('ingests every request exactly once across rename, copytruncate and .gz rotation and source restarts', async () => {
    const [source] = createSources(context.config);
    if (!source?.follow) throw new Error('the file source has no follow()');
    let follower = source.follow(context);

    const TOTAL = 1500;
    let next = 0;
    let paused: Promise<void> | undefined;
    const request = async (id: number) => {
      const response = await fetch(`${url}/req/${id}?n=${id}`, {
        headers: { 'user-agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0.0.0 Safari/537.36' },
      });
      await response.text();
    };
    const worker = async () => {
      while (next < TOTAL) {
        while (paused) await paused;
        await request(next++);
      }
    };
    const reached = async (n: number) => {
      while (next < n) await sleep(5);
    };
    const workers = Promise.all([worker(), worker(), worker(), worker()]);

    // 1. logrotate's default: rename, then tell nginx to reopen its logs (USR1 via the pid file).
    await reached(300);
    renameSync(accessLog, `${accessLog}.1`);
    await reopen();

    // 2. inlet restarts while requests keep coming.
    await reached(550);
    await follower.stop();
    await reached(700);
    follower = source.follow(context);

    // 3. copytruncate. Lines written between the copy and the truncate are lost by copytruncate
    // itself, so requests pause for that instant, as with any logrotate copytruncate.
    await reached(900);
    let resume = () => {};
    paused = new Promise<void>((resolve) => {
      resume = resolve;
    });
    // Until the requests under way have been answered and logged: every request so far has its line.
    const logged = () =>
      [accessLog, `${accessLog}.1`]
        .flatMap((file) => readFileSync(file, 'utf8').split('\n'))
        .filter((line) => line.includes(' /req/')).length;
    while (logged() < next) await sleep(5);
    renameSync(`${accessLog}.1`, `${accessLog}.2`);
    copyFileSync(accessLog, `${accessLog}.1`);
    truncateSync(accessLog, 0);
    paused = undefined;
    resume();

    // 4. delaycompress: .2 becomes .3.gz, .1 → .2, the live file is renamed and nginx reopens.
    await reached(1150);
    writeFileSync(`${accessLog}.3.gz`, gzipSync(readFileSync(`${accessLog}.2`)));
    rmSync(`${accessLog}.2`);
    renameSync(`${accessLog}.1`, `${accessLog}.2`);
    renameSync(accessLog, `${accessLog}.1`);
    await reopen();
    await follower.stop();
    follower = source.follow(context);

    await workers;
    const counts = async () =>
      new Map(
        (
          await engine
            .query(
              "SELECT split_part(path, '/', 3)::INTEGER, count(*)::INTEGER FROM access_logs WHERE path LIKE '/req/%' GROUP BY 1",
            )
            .catch(() => ({ rows: [] }))
        ).rows.map((r) => [Number(r[0]), Number(r[1])]),
      );
    let seen = await counts();
    for (let i = 0; i < 200 && seen.size < TOTAL; i++) {
      await sleep(50);
      seen = await counts();
    }
    await follower.stop();
    seen = await counts();
    const wrong = [...Array(TOTAL).keys()].filter((id) => seen.get(id) !== 1);
    if (wrong.length) {
      const { DuckDBInstance } = await import('@duckdb/node-api');
      const db = await (await DuckDBInstance.create(':memory:')).connect();
      const r = await db.runAndReadAll(
        `SELECT filename, count(*), min(split_part(path, '/', 3)::INT), max(split_part(path, '/', 3)::INT) FROM read_parquet('${context.layout.lake}/access_logs/*/*.parquet', filename=true) GROUP BY 1 ORDER BY 3`,
      );
      console.log(r.getRows().map(String).join('\n'));
      console.log(JSON.stringify(state.getCheckpoint('file-log', 'nginx'), null, 1));
    }
    expect(wrong.map((id) => `${id}×${seen.get(id) ?? 0}`)).toEqual([]);

    const [summary] = (
      await engine.query(
        "SELECT count(*)::INTEGER, count(DISTINCT status)::INTEGER, min(status), bool_and(response_time_ms >= 0), bool_and(visitor_hash IS NOT NULL), min(browser), min(method), min(query) LIKE 'n=%' FROM access_logs WHERE path LIKE '/req/%'",
      )
    ).rows;
    expect(summary).toEqual([TOTAL, 1, 200, true, true, 'Chrome', 'GET', true]);
    // Nothing is left over for a catch-up read.
    expect((await source.sync(context)).rows).toBe(0);
  }, 60_000);
});
