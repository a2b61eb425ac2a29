// npm run bench:sources [section]: how fast sources read what they read. Each section prints its
// figures; nothing is asserted. Add a section by adding an entry to SECTIONS.
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../src/config/index.ts';
import { createAccessLogParser } from '../src/sources/file-log/access-log-parser.ts';
import { createFileSource, fileOptionsSchema } from '../src/sources/file-log/index.ts';
import { createLogRowBuilder, rowJson } from '../src/sources/file-log/log-rows.ts';
import { openStateStore } from '../src/state/index.ts';
import { sourceContext } from '../test/helpers.ts';
import { mysqlSection, postgresSection } from './sources-databases.ts';
import { foldSection } from './sources-fold.ts';
import { mergeSection } from './sources-increments.ts';

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

// ─── nginx log lines parsed per second on one core ──────────────────────────────────────────────

const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
];
const PATHS = [
  '/',
  '/pricing',
  '/docs/getting-started',
  '/lectures/intro-to-sql',
  '/api/v1/events',
  '/search',
];

/** Realistic combined lines with $request_time: many visitors, a few user agents, one time per second. */
function nginxLines(n: number): string[] {
  const start = Date.UTC(2026, 9, 10, 0, 0, 0);
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const t = new Date(start + Math.floor(i / 50) * 1000);
    const p2 = (v: number) => String(v).padStart(2, '0');
    const time = `${p2(t.getUTCDate())}/${months[t.getUTCMonth()]}/${t.getUTCFullYear()}:${p2(t.getUTCHours())}:${p2(t.getUTCMinutes())}:${p2(t.getUTCSeconds())} +0000`;
    const ip = `203.0.${(i * 7) % 256}.${(i * 13) % 256}`;
    const path = `${PATHS[i % PATHS.length]}?utm_source=news&id=${i % 1000}`;
    const ua = USER_AGENTS[i % USER_AGENTS.length];
    lines.push(
      `${ip} - - [${time}] "GET ${path} HTTP/1.1" ${i % 20 === 0 ? 404 : 200} ${1000 + (i % 5000)} "https://www.google.com/" "${ua}" 0.${String(i % 1000).padStart(3, '0')}`,
    );
  }
  return lines;
}

async function nginxSection() {
  const n = Number(process.env.BENCH_LINES ?? 500_000);
  const lines = nginxLines(n);
  const bytes = lines.reduce((sum, l) => sum + l.length + 1, 0);
  // Figures are per process; on a busy machine (see the load average) they drop with it.
  console.log(
    `${fmt(n)} lines, ${(bytes / 1e6).toFixed(0)} MB, on ${cpus()[0]?.model ?? 'unknown CPU'}, load average ${loadavg()[0]?.toFixed(1)}`,
  );

  const parse = createAccessLogParser('nginx_combined');
  for (const line of lines.slice(0, 20_000)) parse(line); // warm up
  let started = performance.now();
  let ok = 0;
  for (const line of lines) if (parse(line).ok) ok++;
  let seconds = (performance.now() - started) / 1000;
  console.log(
    `  parse only:                         ${fmt(n / seconds)} lines/s (${ok === n ? 'all parsed' : `${n - ok} failed`})`,
  );

  const temp = mkdtempSync(join(tmpdir(), 'inlet-bench-sources-'));
  try {
    const rows = createLogRowBuilder({ saltDir: join(temp, 'salts') });
    started = performance.now();
    let out = 0;
    for (const line of lines) {
      const parsed = parse(line);
      if (parsed.ok) out += rowJson(rows.access(parsed.value, 'nginx', 'nginx', null, 0)).length;
    }
    seconds = (performance.now() - started) / 1000;
    console.log(
      `  parse + user agent + visitor hash:  ${fmt(n / seconds)} lines/s (${(out / 1e6).toFixed(0)} MB of rows)`,
    );

    // The whole path of `inlet sync`: read the file, parse, enrich, write Parquet (DuckDB, one thread), checkpoint.
    const logs = join(temp, 'logs');
    mkdirSync(logs);
    writeFileSync(join(logs, 'access.log'), `${lines.join('\n')}\n`);
    lines.length = 0;
    const config = parseConfig({ data_dir: join(temp, 'data') });
    const source = createFileSource(
      'nginx',
      fileOptionsSchema.parse({ path: join(logs, 'access.log'), format: 'nginx_combined' }),
    );
    const state = openStateStore(join(temp, 'data', 'state.sqlite'));
    const cpu = process.cpuUsage();
    started = performance.now();
    const result = await source.sync(sourceContext(config, state));
    seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    state.close();
    const parquet = statSync(join(temp, 'data', 'lake', 'access_logs')).isDirectory();
    const cpuSeconds = (used.user + used.system) / 1e6;
    console.log(
      `  inlet sync end to end (to Parquet): ${fmt(result.rows / seconds)} lines/s, ${seconds.toFixed(1)} s wall, ` +
        `${cpuSeconds.toFixed(1)} s CPU = ${fmt(result.rows / cpuSeconds)} lines per CPU second` +
        `${parquet ? '' : ' (no Parquet written?)'}`,
    );
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

const SECTIONS: Array<{ title: string; run: () => Promise<void> }> = [
  { title: 'nginx log lines parsed per second on one core (target ≥ 60,000)', run: nginxSection },
  {
    title: 'postgres table → Parquet (targets ≥ 250,000 rows/s, ≤ 1.5× COPY, peak RSS ≤ 512 MB)',
    run: postgresSection,
  },
  { title: 'mysql table → Parquet (target ≥ 100,000 rows/s)', run: mysqlSection },
  { title: 'merge table synced again and again: files kept and its view queried', run: mergeSection },
  { title: 'fold of a wide merge table under the 192 MB memory_limit', run: foldSection },
];

const only = process.argv[2];
for (const section of SECTIONS) {
  if (only && !section.title.includes(only)) continue;
  console.log(`\n## ${section.title}`);
  await section.run();
}
