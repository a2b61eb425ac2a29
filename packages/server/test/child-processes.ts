// The child processes a test file started (inlet, or what runs as inlet does) that may still run. A
// test that failed or timed out before it stopped its inlet left it running, eating CPU beside
// every later file of the run. test/setup.ts kills one a test started after that test (after the
// file's own afterEach, which may stop it gently first), one started in beforeAll after the file;
// any left when the process exits of itself (a bench script) are killed then.
import { type ChildProcess, type ExecFileOptions, execFile } from 'node:child_process';

const running = new Map<ChildProcess, 'test' | 'file'>();
let inTest = false;

/** Kills child (SIGKILL; inlet's query engine ends with it) after the test, or the file, that started it, unless it has exited. */
export function killedAfterwards<T extends ChildProcess>(child: T): T {
  running.set(child, inTest ? 'test' : 'file');
  child.once('exit', () => running.delete(child));
  return child;
}

/** Marks whether a test (with its beforeEach / afterEach) is running, so what starts now goes with it. */
export function testRunning(running: boolean): void {
  inTest = running;
}

/** Kills the children still running that the test started, or all of them. */
export function killChildren(started?: 'test'): void {
  for (const [child, scope] of running) {
    if (started !== undefined && scope !== started) continue;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    running.delete(child);
  }
}

process.once('exit', () => killChildren());

/** How a child run to its end ended, and what it printed: spawnSync's answer, awaited. */
export interface ChildRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs file to its end as spawnSync would, without holding this process's event loop meanwhile:
 * a vitest worker held for the seconds a node or inlet child takes on a loaded machine could not
 * answer vitest's calls (which time out after 60 s and fail the run), nor time its test out.
 * Killed after the test if it outlives it. Rejects only when it could not be started.
 */
export function runChild(file: string, args: string[], options: ExecFileOptions = {}): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { maxBuffer: 64 * 1024 * 1024, ...options, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (child.exitCode === null && child.signalCode === null) reject(error);
        else resolve({ status: child.exitCode, signal: child.signalCode, stdout, stderr });
      },
    );
    killedAfterwards(child);
  });
}

/** What file printed, run as runChild runs it; throws, with what it said on stderr, unless it exited 0 (as execFileSync does). */
export async function stdoutOf(file: string, args: string[], options: ExecFileOptions = {}): Promise<string> {
  const run = await runChild(file, args, options);
  if (run.status !== 0)
    throw new Error(
      `${[file, ...args].join(' ')} ended with ${run.signal ?? `exit ${run.status}`}: ${run.stderr}`,
    );
  return run.stdout;
}
