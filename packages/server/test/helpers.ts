import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
// The app, the engine and the HTTP app are imported where a helper starts them (startTestInlet,
// queryEngineApp): most files that import this one start none, and loading the app and Fastify's
// routes cost each of those files ~2 s before its first test.
import type { RunningInlet } from '../src/app/index.ts';
import type { Output } from '../src/cli/output.ts';
import { type InletConfig, type InletConfigInput, parseConfig } from '../src/config/index.ts';
import type { createQueryEngine, QueryEngine } from '../src/engine/index.ts';
import type { createHttpApp } from '../src/http/index.ts';
import { dataLayout } from '../src/lake/index.ts';
import { createSilentLogger, type Logger } from '../src/log/index.ts';
import { createMetrics } from '../src/metrics/index.ts';
import { createSources, findSource, type SourceContext } from '../src/sources/index.ts';
import { openStateStore, type StateStore } from '../src/state/index.ts';

export const WRITE_KEY = 'wk_docs_9f3a';

/**
 * vi.waitFor's options for what comes soon on any machine: its default of a second is a time limit
 * that a busy one (a load of 10 and more on 2 cores) can pass. It still answers as soon as it holds.
 */
export const STEADY = { timeout: 20_000, interval: 20 };
export const API_TOKEN = 'test-token-0123456789';

/**
 * Where a test that writes hundreds of files, and checks what they hold rather than that they were
 * fsynced, may make its tempDir: tmpfs (/dev/shm), whose fsync returns at once, where the machine has
 * one; the system's temporary directory otherwise. On disk, a load's fsync of each file and of its
 * directory took half the time of a 1,000-partition load on a busy machine.
 */
export const IN_MEMORY = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();

/** A new directory under base (the system's temporary directory unless given), and what removes it. */
export function tempDir(prefix = 'inlet-test-', base = tmpdir()): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(base, prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes yaml as dir/<file> (inlet.yaml unless given), making dir if it is not there; returns its path for --config. */
export function configIn(dir: string, yaml: string, file = 'inlet.yaml'): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, file);
  writeFileSync(path, yaml);
  return path;
}

/**
 * A configuration with the tests' site, as parsed from configPath when given: a user with sources or
 * workflows has a file, which messages name ("in inlet.yaml"); without it they read as on the
 * defaults ("in a new ./inlet.yaml").
 */
export function testConfig(
  dataDir: string,
  overrides: Partial<InletConfigInput> = {},
  { configPath }: { configPath?: string } = {},
): InletConfig {
  return parseConfig(
    {
      data_dir: dataDir,
      server: { host: '127.0.0.1', port: 0 },
      sites: [
        {
          id: 'docs',
          write_key: WRITE_KEY,
          origins: ['https://docs.example.com'],
          domains: ['docs.example.com'],
        },
      ],
      ...overrides,
    },
    { env: { INLET_API_TOKEN: API_TOKEN }, file: configPath },
  );
}

export async function startTestInlet(
  overrides: Partial<InletConfigInput> = {},
  logger: Logger = createSilentLogger(),
): Promise<RunningInlet & { dataDir: string; cleanup: () => Promise<void> }> {
  const { dir, cleanup } = tempDir();
  const { startInlet } = await import('../src/app/index.ts');
  const inlet = await startInlet({ config: testConfig(dir, overrides), logger });
  return {
    ...inlet,
    dataDir: dir,
    async cleanup() {
      await inlet.close();
      cleanup();
    },
  };
}

export const basicAuth = (key = WRITE_KEY) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;

/** Runs SQL through the HTTP query API and returns rows as objects. */
export async function queryApi(
  url: string,
  sql: string,
  token = API_TOKEN,
): Promise<Record<string, unknown>[]> {
  const response = await fetch(`${url}/api/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ sql }),
  });
  const body = (await response.json()) as { columns: { name: string }[]; rows: unknown[][]; error?: unknown };
  if (!response.ok) throw new Error(`query failed with ${response.status}: ${JSON.stringify(body)}`);
  return body.rows.map((row) => Object.fromEntries(body.columns.map((c, i) => [c.name, row[i]])));
}

/**
 * The statuses of /healthz and of one event sent to the inlet at url: whether it is up and collecting,
 * which a part of inlet that is left out (a broken workflow, a source without its URL) must not stop.
 */
export async function collectingStatuses(
  url: string,
  id: string,
): Promise<{ health: number; batch: number }> {
  const health = (await fetch(`${url}/healthz`)).status;
  const sent = await fetch(`${url}/v1/batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: basicAuth() },
    body: JSON.stringify({ batch: [segmentMessage(id)] }),
  });
  return { health, batch: sent.status };
}

export function segmentMessage(id: string, overrides: Record<string, unknown> = {}) {
  return {
    type: 'track',
    event: 'signup',
    messageId: id,
    anonymousId: 'anon-1',
    timestamp: new Date().toISOString(),
    ...overrides,
  };
}

/** The JSON records among text's lines, as a test reads NDJSON or a log on standard output; Line types them. */
export function jsonLines<Line extends object = Record<string, unknown>>(text: string): Line[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Line);
}

/** An Output for a CLI command (not a terminal) that keeps what it prints: stdout write by write, and stderr. */
export function capturedOutput(): {
  output: Output;
  writes: string[];
  readonly out: string;
  readonly err: string;
} {
  const writes: string[] = [];
  let err = '';
  return {
    output: {
      isTty: false,
      out: (text) => {
        writes.push(text);
      },
      err: (text) => {
        err += text;
      },
    },
    writes,
    get out() {
      return writes.join('');
    },
    get err() {
      return err;
    },
  };
}

/** Runs the inlet command line in this process and captures what it prints. */
export async function runCli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const { main } = await import('../src/cli/main.ts');
  const captured = capturedOutput();
  const code = await main(argv, captured.output, { INLET_LOG_LEVEL: 'silent' });
  return { code, out: captured.out, err: captured.err };
}

/**
 * What a source's sync gets, as `inlet sync` gives it: the config's data layout, a silent logger,
 * metrics of its own and a signal nothing aborts. A test or bench passes what it looks at in overrides.
 */
export function sourceContext(
  config: InletConfig,
  state: StateStore,
  overrides: Partial<SourceContext> = {},
): SourceContext {
  return {
    config,
    layout: dataLayout(config.data_dir),
    state,
    logger: createSilentLogger(),
    metrics: createMetrics(),
    signal: new AbortController().signal,
    ...overrides,
  };
}

/**
 * A config under dir with the CSV source sales, whose table accounts (id, plan) is synced into the
 * lake as inlet sync sales leaves it; overrides are the rest of inlet.yaml.
 */
export async function withSalesSynced(
  dir: string,
  overrides: Partial<InletConfigInput> = {},
): Promise<InletConfig> {
  const csv = join(dir, 'accounts.csv');
  mkdirSync(dir, { recursive: true });
  writeFileSync(csv, 'id,plan\n1,pro\n');
  const config = testConfig(join(dir, 'data'), {
    models: { builtin: false },
    sources: [{ name: 'sales', type: 'csv', tables: [{ path: csv, name: 'accounts' }] }],
    ...overrides,
  });
  const state = openStateStore(join(config.data_dir, 'state.sqlite'));
  try {
    await findSource(createSources(config), 'sales').sync(sourceContext(config, state));
  } finally {
    state.close();
  }
  return config;
}

/** A logger that keeps every line it writes, parsed, for a test to look at; Fields types what else it reads. */
export function capturingLogger<Fields extends object = object>(level = 'info') {
  const lines: Array<Fields & { level: number; msg: string }> = [];
  const logger = pino(
    { level },
    new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    }),
  );
  return { logger, lines };
}

/**
 * Options to run a process as nobody (uid 65534) when this is root, who may read and write anything,
 * so permission tests can see a refusal; as this user otherwise.
 */
export const AS_NOBODY = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};

/**
 * Whether nobody may run this Node and read path. Not where they sit in a directory only root may
 * enter: scripts/test-node.sh clones into a private temporary directory and runs a Node kept under
 * ~/.cache, so those runs skip the tests that need it, which the run on the machine's Node makes.
 */
export function nobodyCanRun(path: string): boolean {
  try {
    execFileSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(path)})`], {
      ...AS_NOBODY,
      stdio: 'ignore',
    });
    return true;
  } catch {
    return false;
  }
}

/**
 * The query engine over an empty lake in config's data_dir, and the HTTP app serving its query API
 * with apiToken: what a query API test or benchmark stands up. The caller closes both. The engine
 * runs in a process of its own, as the server's does, unless inProcess (a benchmark that measures
 * one process's memory).
 */
export async function queryEngineApp(
  config: InletConfig,
  apiToken: string,
  options: {
    inProcess?: boolean;
    /** Options of an engine in this process (inProcess implied): leases, onFileRace… */
    engine?: Omit<Parameters<typeof createQueryEngine>[0], 'config' | 'layout'>;
  } = {},
): Promise<{ engine: QueryEngine; app: ReturnType<typeof createHttpApp> }> {
  const [engines, http] = await Promise.all([
    import('../src/engine/index.ts'),
    import('../src/http/index.ts'),
  ]);
  const layout = dataLayout(config.data_dir);
  mkdirSync(layout.events, { recursive: true });
  const engine =
    options.inProcess || options.engine
      ? await engines.createQueryEngine({ config, layout, ...options.engine })
      : await engines.createQueryProcess({ config, layout, logger: createSilentLogger() });
  const app = http.createHttpApp({
    config,
    logger: createSilentLogger(),
    metrics: createMetrics(),
    engine,
    apiToken,
  });
  return { engine, app };
}
