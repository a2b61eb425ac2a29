// inlet as a child process, for tests and scripts that run it as a user would or kill it (crash.test.ts, bench/chaos.ts).
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { killedAfterwards } from './child-processes.ts';
import { configIn, WRITE_KEY } from './helpers.ts';
import { within } from './within.ts';

/** The inlet command, as `npx inlet` runs it. */
export const BIN = join(import.meta.dirname, '..', 'bin', 'inlet.cjs');

/** A TCP port nothing listens on right now. */
export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

/**
 * Writes dir/inlet.yaml for an inlet on a free port (data in dir/data, the `docs` site with the
 * tests' write key), with extra YAML after it; returns the file and the server's URL.
 */
export async function inletConfigFile(dir: string, extra = ''): Promise<{ config: string; url: string }> {
  const port = await freePort();
  const config = configIn(
    dir,
    `data_dir: ./data\nserver: { host: 127.0.0.1, port: ${port} }\nsites:\n  - id: docs\n    write_key: ${WRITE_KEY}\n${extra}`,
  );
  return { config, url: `http://127.0.0.1:${port}` };
}

/** Resolves once the process has exited (at once if it has). */
export const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });

/** Starts `inlet start --config <config>` and resolves once url/healthz answers; rejects with its stderr if it exits or does not come up. */
export async function startInletProcess(
  config: string,
  url: string,
  apiToken: string,
): Promise<ChildProcess> {
  const child = killedAfterwards(
    spawn(process.execPath, [BIN, 'start', '--config', config], {
      env: { ...process.env, INLET_API_TOKEN: apiToken, INLET_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'pipe'],
    }),
  );
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  // Polled often (30 s and more in all, as before): a refused connection costs next to nothing, and
  // each start (crash.test.ts starts inlet seven times) waited half a poll on average once it was up.
  for (let i = 0; i < 1500; i++) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) return child;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null) throw new Error(`inlet exited at start:\n${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`inlet did not start:\n${stderr}`);
}

/** A running `inlet` child process and what it has written so far. */
export interface InletProcess {
  child: ChildProcess;
  /** Its stdout so far. */
  readonly out: string;
  /** Its stderr so far. */
  readonly err: string;
  /** Resolves to its exit code once it has exited and its output is all read (null when a signal ended it). */
  exit: Promise<number | null>;
  /** Resolves once its stdout holds text; rejects with its stderr if it exits first. */
  waitForOutput(text: string): Promise<void>;
}

/** Runs `inlet <args>` (stdin closed) with env, capturing its stdout and stderr. */
export function spawnInlet(args: string[], env: NodeJS.ProcessEnv = process.env): InletProcess {
  const child = killedAfterwards(
    spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] }),
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk) => {
    out += chunk;
  });
  child.stderr.on('data', (chunk) => {
    err += chunk;
  });
  return {
    child,
    get out() {
      return out;
    },
    get err() {
      return err;
    },
    // 'close', not 'exit': a child's last output can still be in its pipes when it has exited.
    exit: new Promise((resolve) => child.once('close', resolve)),
    async waitForOutput(text) {
      while (!out.includes(text)) {
        if (child.exitCode !== null) throw new Error(`inlet exited at start:\n${err}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
  };
}

/** Runs `inlet start --config <config>` with env and resolves once url/healthz answers; rejects with its stderr if it exits first. */
export async function spawnStartedInlet(
  config: string,
  url: string,
  env: NodeJS.ProcessEnv,
): Promise<InletProcess> {
  const inlet = spawnInlet(['start', '--config', config], env);
  await within(
    60_000,
    'inlet start to answer /healthz',
    (async () => {
      for (;;) {
        if (inlet.child.exitCode !== null) throw new Error(`inlet exited at start:\n${inlet.err}`);
        if (
          await fetch(`${url}/healthz`).then(
            (r) => r.ok,
            () => false,
          )
        )
          return;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })(),
  );
  return inlet;
}

/**
 * Stops an inlet process as a supervisor does (SIGTERM) and resolves to its exit code once it has
 * exited and its output is all read; to undefined for none (a beforeAll that failed before it started).
 */
export function stopInlet(inlet: InletProcess | undefined): Promise<number | null | undefined> {
  if (!inlet) return Promise.resolve(undefined);
  inlet.child.kill('SIGTERM');
  return inlet.exit;
}

/** The pids of a process's (this one's) children that run the query engine. */
export function engineProcesses(parent: number | 'self' = 'self'): number[] {
  const pids = readdirSync(`/proc/${parent}/task`).flatMap((task) =>
    readFileSync(`/proc/${parent}/task/${task}/children`, 'utf8').split(' ').filter(Boolean).map(Number),
  );
  return pids.filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('query-process-boot');
    } catch {
      return false;
    }
  });
}

/** The engine's process (of this process, or of another), once a query runs in it (its CPU time grows). */
export async function busyEngine(parent: number | 'self' = 'self'): Promise<number> {
  const [pid] = engineProcesses(parent);
  if (pid === undefined) throw new Error('no query engine process');
  const cpuTicks = () => {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return Number(fields[11]) + Number(fields[12]);
  };
  const before = cpuTicks();
  while (cpuTicks() < before + 20) await new Promise((resolve) => setTimeout(resolve, 20));
  return pid;
}

/**
 * The engine's process of an inlet process, once a query is planned or run in it (busyThreads):
 * starting the engine takes nowhere near a second of CPU.
 */
export async function engineAtWork(parent: number): Promise<number> {
  while (engineProcesses(parent).length === 0) await new Promise((resolve) => setTimeout(resolve, 50));
  const engine = await busyEngine(parent);
  await busyThreads(engine);
  return engine;
}

/**
 * Resolves once a thread of a process other than its main one (libuv's, where DuckDB plans, or
 * DuckDB's own) has used a second of CPU: a query is planned or runs in the DuckDB of that process.
 */
export async function busyThreads(pid: number): Promise<void> {
  const cpuSeconds = (task: string) => {
    const fields = readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  };
  // A thread may end between listing it and reading its figures.
  const busy = (task: string) => {
    try {
      return cpuSeconds(task) >= 1;
    } catch {
      return false;
    }
  };
  while (!readdirSync(`/proc/${pid}/task`).some((task) => task !== String(pid) && busy(task)))
    await new Promise((resolve) => setTimeout(resolve, 50));
}

/** Waits until this many threads of the engine's process besides its main one use CPU: as many queries run in it. */
export async function threadsAtWork(pid: number, count: number): Promise<void> {
  const ticks = () =>
    new Map(
      readdirSync(`/proc/${pid}/task`)
        .filter((task) => task !== String(pid))
        .map((task) => {
          const fields =
            readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
          return [task, Number(fields[11]) + Number(fields[12])] as const;
        }),
    );
  const before = ticks();
  while ([...ticks()].filter(([task, used]) => used >= (before.get(task) ?? 0) + 20).length < count)
    await new Promise((resolve) => setTimeout(resolve, 20));
}
