import {
  closeSync,
  fstatSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeSync,
} from 'node:fs';
import { hostname, uptime } from 'node:os';
import { dirname } from 'node:path';
import { removeOwnFile } from '../remove-own-file.ts';

// Locks this process holds, so a lock file naming our own pid is told apart from one left behind
// by an earlier process that had the same pid (pid 1 in every container start).
const held = new Set<string>();

/**
 * Where this process's pid means something: its host. Containers sharing a data directory each have
 * their own pids, pid 1 in each, and a host name of their own: one took the other's lock for one left
 * by a process gone (or by an earlier start of its own), and both held it. A container started again
 * keeps its host name, so a lock it left is still taken over at once.
 */
const HOST = hostname();

/**
 * How often a held lock's file is touched, and how long one from another host (whose pid cannot be
 * looked up from here) stays held without it: eight touches missed, as for a run's heartbeats.
 */
const TOUCH_MS = 15_000;
const LEASE_MS = 8 * TOUCH_MS;
let toucher: NodeJS.Timeout | undefined;

function touchHeld(): void {
  const now = new Date();
  for (const path of held) {
    try {
      utimesSync(path, now, now);
    } catch {
      // Removed by hand: nothing to keep fresh.
    }
  }
}

/** Whether a process with this pid runs on this machine now (one of another user's counts too). */
export const processAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * A lock file's text: its holder's pid (NaN for none), host and the inode of the file it made
 * (neither in a lock of an older inlet, nor the inode in one of an inlet before it was written).
 */
const parseLock = (text: string) => {
  const [pid = '', host, inode] = text.trim().split(' ');
  return { pid: /^\d+$/.test(pid) ? Number(pid) : Number.NaN, host, inode };
};

/** The inode of the file at path, as a lock file's text names it; undefined when it cannot be looked at (gone). */
function inodeOf(path: string): string | undefined {
  try {
    return String(statSync(path, { bigint: true }).ino);
  } catch {
    return undefined;
  }
}

/** When the lock file at path was last touched; undefined when it cannot be looked at (gone). */
function touchedAt(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/**
 * Whether a lock of this host was left before the machine last started, and not touched since for
 * longer than a holder would leave it: no process outlives a restart, but its pid can be another
 * process's after it (a daemon started at boot), which kept the lock held for as long as that ran.
 * The lease covers a clock set forward at boot, which moves the start's time but not the lock's.
 */
function leftBeforeBoot(path: string): boolean {
  const at = touchedAt(path);
  const now = Date.now();
  return at !== undefined && at < Math.min(now - uptime() * 1000, now - LEASE_MS);
}

/**
 * Whether the lock at path, whose text is `text`, is held by a process that runs now: looked up by
 * its pid on this host, or, from another, by the lock file's last touch.
 */
function heldByLive(path: string, text: string): boolean {
  const { pid, host = HOST, inode } = parseLock(text);
  if (Number.isNaN(pid)) return false;
  if (host !== HOST) return Date.now() - (touchedAt(path) ?? 0) < LEASE_MS;
  // A copy of the file its holder made (a data directory copied while inlet ran) is no lock of a
  // process that runs: its process holds the original, and the copy's pid kept every start on the
  // copy refused for as long as that one ran. Inodes are compared on this host alone, where every
  // mount of a file shows it under one (a network file system may number it apart on each host),
  // and only once the file has gone untouched for the lease: its holder touches the file it holds,
  // never a copy, and a file system that numbers a file anew when it looks it up again (some FUSE
  // ones) does not make a held lock look copied.
  if (inode !== undefined && inode !== inodeOf(path) && Date.now() - (touchedAt(path) ?? 0) >= LEASE_MS)
    return false;
  if (pid === process.pid) return held.has(path);
  return processAlive(pid) && !leftBeforeBoot(path);
}

/** The holder as the busy error names it: another process, with its pid and the host it runs on. */
function describeHolder(text: string): string {
  const { pid, host = HOST } = parseLock(text);
  if (host !== HOST) return `another inlet process (pid ${pid} on ${host})`;
  return pid === process.pid ? 'this process already' : `another inlet process (pid ${pid})`;
}

/** The lock file's text, empty when it is not there. */
function lockText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    // Not held, or released meanwhile.
    return '';
  }
}

/** The pid of the process that holds the lock file at path now; undefined when none does (or it is left by one gone). */
export function lockHolder(path: string): number | undefined {
  const text = lockText(path);
  return heldByLive(path, text) ? parseLock(text).pid : undefined;
}

/** The process that holds the lock file at path now, as a busy error names it; undefined when none does. */
export function describeLockHolder(path: string): string | undefined {
  const text = lockText(path);
  return heldByLive(path, text) ? describeHolder(text) : undefined;
}

export interface ProcessLock {
  release(): void;
}

/**
 * Lets one process at a time hold the lock file at path: inlet processes that share a data
 * directory use it so two of them never do the same work at once. A lock whose process is gone is
 * taken over, so a crash never needs manual cleanup. busy builds the error thrown while another
 * holds it, from a description of the holder and its pid (NaN when the file went away meanwhile).
 */
export function acquireProcessLock(path: string, busy: (holder: string, pid: number) => Error): ProcessLock {
  mkdirSync(dirname(path), { recursive: true });
  for (let attempt = 0; attempt < 3; attempt++) {
    if (createWithPid(path)) {
      held.add(path);
      toucher ??= setInterval(touchHeld, TOUCH_MS).unref();
      return {
        release() {
          if (!held.delete(path)) return;
          rmSync(path, { force: true });
          if (held.size > 0) return;
          clearInterval(toucher);
          toucher = undefined;
        },
      };
    }
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Released meanwhile: try again, rather than remove what another process may just have made.
      if (code === 'ENOENT') continue;
      // A folder under its name: removeOwnFile names it.
      if (code !== 'EISDIR') throw error;
      removeOwnFile(path, 'a lock that an inlet process holds, naming its pid');
      continue;
    }
    if (heldByLive(path, text)) throw busy(describeHolder(text), parseLock(text).pid);
    // Its process is gone (or it names none, which a lock made whole never does): taken over.
    takeOver(path);
  }
  throw busy('another process right now', Number.NaN);
}

/**
 * Removes the lock file at path if it is still left by a process gone, holding the lock file
 * `<path>.takeover` meanwhile, itself a process lock (so one left by a process that died taking
 * over is taken over too). Only its holder removes a lock left behind, and nobody else can change
 * one while it looks: its process is gone and it is there. Removed without it, by whoever read the
 * dead pid, the file could be another process's made since (two held it); moved aside to be looked
 * at and put back, a third process took the lock in the moment it was away (two held it again).
 */
function takeOver(path: string): void {
  let guard: ProcessLock;
  try {
    guard = acquireProcessLock(`${path}.takeover`, () => new TakingOver());
  } catch (error) {
    // Another process is taking it over this moment: the caller looks again.
    if (error instanceof TakingOver) return;
    throw error;
  }
  try {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      // Taken over and released meanwhile.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    if (!heldByLive(path, text)) rmSync(path, { force: true });
  } finally {
    guard.release();
  }
}

class TakingOver extends Error {}

/**
 * Creates the lock file with this process's pid in it, in one step, or returns false when it
 * exists: created empty and written after, another process read it empty, took it for one left
 * behind, removed it and took the lock too (two builds of one model at once).
 */
function createWithPid(path: string): boolean {
  const draft = `${path}.${process.pid}.tmp`;
  writeLock(openSync(draft, 'w'));
  try {
    linkSync(draft, path);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS') throw error;
  } finally {
    rmSync(draft, { force: true });
  }
  // A file system without hard links: created, then written, as before.
  try {
    writeLock(openSync(path, 'wx'));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** Writes this process's lock text into the file open as fd, which it closes: pid, host and the file's inode. */
function writeLock(fd: number): void {
  try {
    writeSync(fd, `${process.pid} ${HOST} ${fstatSync(fd, { bigint: true }).ino}\n`);
  } finally {
    closeSync(fd);
  }
}
