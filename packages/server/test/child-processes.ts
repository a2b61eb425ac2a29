// The child processes a test file started (inlet, or what runs as inlet does) that may still run. A
// test that failed or timed out before it stopped its inlet left it running, eating CPU beside
// every later file of the run. test/setup.ts kills one a test started after that test (after the
// file's own afterEach, which may stop it gently first), one started in beforeAll after the file;
// any left when the process exits of itself (a bench script) are killed then.
import type { ChildProcess } from 'node:child_process';

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
