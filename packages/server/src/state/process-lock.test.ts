import { execFile, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { hostname, uptime } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import { bundledFixture } from '../../test/bundled-fixture.ts';
import { startTogether } from '../../test/fixtures/state/start-together.ts';
import { tempDir } from '../../test/helpers.ts';
import { acquireProcessLock } from './index.ts';

const execFileAsync = promisify(execFile);
const busy = (holder: string) => new Error(`held by ${holder}`);

/** The pid a lock file names. */
const holder = (path: string) => readFileSync(path, 'utf8').split(' ')[0];

/** The pid of a process that has ended. */
const goneProcess = () => spawnSync(process.execPath, ['-e', '']).pid;

/** Another process taking the lock at path once, pausing after each of its first `pauses` reads of it (take-over-late.ts). */
const takeOnce = async (path: string, stepDir: string, pauses: number) => {
  mkdirSync(stepDir, { recursive: true });
  const script = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'state', 'take-over-late.ts');
  return execFileAsync(process.execPath, [await bundledFixture(script), path, stepDir, String(pauses)], {
    cwd: join(import.meta.dirname, '..', '..'),
    encoding: 'utf8',
  });
};

/** Waits until the other process has made stepDir/name, having paused there. */
const step = async (stepDir: string, name: string) => {
  while (!existsSync(join(stepDir, name))) await new Promise((resolve) => setTimeout(resolve, 20));
};

describe('a process lock', () => {
  it('is held by one of two processes at a time, however often they both take it', async () => {
    // The file was created empty and then written: the other process read it empty, took it for a
    // lock left behind, removed it and held the lock too (a model built twice at once).
    const temp = tempDir();
    const lock = join(temp.dir, 'locks', 'model-m.lock');
    const log = join(temp.dir, 'holds.log');
    const script = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'state', 'lock-loop.ts');
    const barrier = join(temp.dir, 'barrier');
    mkdirSync(barrier);
    const run = async () =>
      execFileAsync(process.execPath, [await bundledFixture(script), barrier, '3000', lock, log], {
        cwd: join(import.meta.dirname, '..', '..'),
        encoding: 'utf8',
      });
    // Both loaded first, however long that takes, then started at one moment.
    const runs = [run(), run()];
    await startTogether(barrier, runs);
    const held = (await Promise.all(runs)).map(({ stdout }) => Number(stdout));
    expect(held.every((n) => n > 0)).toBe(true);
    const holders = new Set<string>();
    let both = 0;
    for (const line of readFileSync(log, 'utf8').trim().split('\n')) {
      const [pid, what] = line.split(' ');
      if (what === 'in' && holders.size > 0) both++;
      if (what === 'in') holders.add(String(pid));
      else holders.delete(String(pid));
    }
    expect(both).toBe(0);
    temp.cleanup();
  }, 20_000);

  it('is not taken over from a process that took it over from one gone a moment before', async () => {
    // Both read the dead pid; one removed the file and took the lock, then the other removed that
    // one's new lock as if it were the dead one's, and held the lock too.
    const temp = tempDir();
    const path = join(temp.dir, 'model-m.lock');
    writeFileSync(path, `${goneProcess()}\n`);
    const other = takeOnce(path, temp.dir, 1);
    await step(temp.dir, 'read-1');
    // The other process has read the dead pid: this one takes the lock over first.
    const lock = acquireProcessLock(path, busy);
    writeFileSync(join(temp.dir, 'go-1'), '');
    expect((await other).stdout).toBe('busy\n');
    expect(holder(path)).toBe(String(process.pid));
    lock.release();
    temp.cleanup();
  }, 30_000);

  it('is held by one at a time when three processes find it left by one gone at the same moment', async () => {
    // B read the dead pid, this process took the lock over, then B moved this one's lock aside to
    // look at it: C, coming just then, found no lock and took it, and C and this process both held it.
    const temp = tempDir();
    const path = join(temp.dir, 'model-m.lock');
    writeFileSync(path, `${goneProcess()}\n`);
    const b = takeOnce(path, temp.dir, 2);
    await step(temp.dir, 'read-1');
    const lock = acquireProcessLock(path, busy);
    writeFileSync(join(temp.dir, 'go-1'), '');
    await step(temp.dir, 'read-2');
    // B is in the middle of its take-over, having looked at the lock again: now C comes.
    const c = await takeOnce(path, join(temp.dir, 'c'), 0);
    writeFileSync(join(temp.dir, 'go-2'), '');
    expect([(await b).stdout, c.stdout]).toEqual(['busy\n', 'busy\n']);
    expect(holder(path)).toBe(String(process.pid));
    lock.release();
    temp.cleanup();
  }, 30_000);

  it('is refused while a live process holds it, and taken over from one gone, one gone taking it over, or a file naming none', () => {
    const temp = tempDir();
    const path = join(temp.dir, 'model-m.lock');
    const gone = goneProcess();
    for (const left of [`${gone}\n`, '']) {
      writeFileSync(path, left);
      const lock = acquireProcessLock(path, busy);
      expect(holder(path)).toBe(String(process.pid));
      expect(() => acquireProcessLock(path, busy)).toThrow('held by this process already');
      lock.release();
    }
    // One that died taking a lock over left its guard too.
    writeFileSync(path, `${gone}\n`);
    writeFileSync(`${path}.takeover`, `${gone}\n`);
    acquireProcessLock(path, busy).release();
    expect(existsSync(`${path}.takeover`)).toBe(false);
    writeFileSync(path, `${process.ppid}\n`);
    expect(() => acquireProcessLock(path, busy)).toThrow(
      `held by another inlet process (pid ${process.ppid})`,
    );
    temp.cleanup();
  });

  it('is not taken from a process of another container, even one with the same pid, until it stops touching it', () => {
    // Containers sharing a data directory have their own pids, pid 1 in each: the lock of one was
    // taken for one left by an earlier start of the other, and both ran the workflow at once.
    const temp = tempDir();
    const path = join(temp.dir, 'workflow-nightly.lock');
    writeFileSync(path, `${process.pid} 3f2a9c1d7e4b\n`);
    expect(() => acquireProcessLock(path, busy)).toThrow(
      `held by another inlet process (pid ${process.pid} on 3f2a9c1d7e4b)`,
    );
    // Not touched for over two minutes: its process is gone.
    const then = new Date(Date.now() - 3 * 60_000);
    utimesSync(path, then, then);
    const lock = acquireProcessLock(path, busy);
    expect(readFileSync(path, 'utf8')).toBe(
      `${process.pid} ${hostname()} ${statSync(path, { bigint: true }).ino}\n`,
    );
    lock.release();
    // One this host's process left (a container started again keeps its host name) goes at once.
    writeFileSync(path, `${process.pid} ${hostname()}\n`);
    acquireProcessLock(path, busy).release();
    temp.cleanup();
  });

  it('is taken over from a process of this host from before the machine started, whose pid another process has now', () => {
    // After a reboot (a crash, a power cut), a lock left by inlet named a pid a daemon started at boot
    // was given: held for as long as that daemon ran, so each run of the workflow waited for it, and
    // inlet start refused to run the loader (DATA_DIR_IN_USE).
    const temp = tempDir();
    const path = join(temp.dir, 'workflow-nightly.lock');
    writeFileSync(path, `${process.ppid} ${hostname()}\n`);
    const beforeBoot = new Date(Date.now() - uptime() * 1000 - 3_600_000);
    utimesSync(path, beforeBoot, beforeBoot);
    const lock = acquireProcessLock(path, busy);
    expect(readFileSync(path, 'utf8')).toBe(
      `${process.pid} ${hostname()} ${statSync(path, { bigint: true }).ino}\n`,
    );
    lock.release();
    // Touched since the machine started, by a process alive now: held.
    writeFileSync(path, `${process.ppid} ${hostname()}\n`);
    expect(() => acquireProcessLock(path, busy)).toThrow(
      `held by another inlet process (pid ${process.ppid})`,
    );
    temp.cleanup();
  });

  it('is not held by a live process in a copy of its file left untouched, as in a data directory copied while inlet runs', () => {
    // cp -r data /tmp/copy while inlet ran: inlet start on the copy was refused DATA_DIR_IN_USE, naming
    // the pid of the process that ran on the original, for as long as that one ran.
    const temp = tempDir();
    const path = join(temp.dir, 'loader.lock');
    const copy = join(temp.dir, 'copy', 'loader.lock');
    writeFileSync(path, `${process.ppid} ${hostname()}\n`);
    const made = `${process.ppid} ${hostname()} ${statSync(path, { bigint: true }).ino}\n`;
    writeFileSync(path, made);
    mkdirSync(join(temp.dir, 'copy'));
    copyFileSync(path, copy);
    // Touched within the lease (cp -p keeps the original's last touch), the copy is held still, as a
    // lock whose file a FUSE file system numbered anew is; untouched for two minutes, it is a copy.
    const held = `held by another inlet process (pid ${process.ppid})`;
    expect(() => acquireProcessLock(copy, busy)).toThrow(held);
    const then = new Date(Date.now() - 3 * 60_000);
    utimesSync(copy, then, then);
    const lock = acquireProcessLock(copy, busy);
    expect(holder(copy)).toBe(String(process.pid));
    lock.release();
    // The file its holder made is held still, untouched too, as is a lock an older inlet made, which
    // names no file.
    utimesSync(path, then, then);
    expect(() => acquireProcessLock(path, busy)).toThrow(held);
    copyFileSync(path, copy);
    writeFileSync(copy, `${process.ppid} ${hostname()}\n`);
    utimesSync(copy, then, then);
    expect(() => acquireProcessLock(copy, busy)).toThrow(held);
    temp.cleanup();
  });

  it('keeps the file of a lock it holds touched, for processes elsewhere to see it is held', () => {
    const temp = tempDir();
    const path = join(temp.dir, 'workflow-nightly.lock');
    vi.useFakeTimers({ now: new Date('2030-01-01T00:00:00Z') });
    try {
      const lock = acquireProcessLock(path, busy);
      vi.advanceTimersByTime(60_000);
      expect(statSync(path).mtime.toISOString()).toBe('2030-01-01T00:01:00.000Z');
      lock.release();
    } finally {
      vi.useRealTimers();
    }
    temp.cleanup();
  });
});
