import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { removeOwnFile } from '../remove-own-file.ts';

// Locks this process holds, so a lock file naming our own pid is told apart from one left behind
// by an earlier process that had the same pid (pid 1 in every container start).
const held = new Set<string>();

/** Whether a process with this pid runs on this machine now (one of another user's counts too). */
export const processAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** The pid of the process that holds the lock file at path now; undefined when none does (or it is left by one gone). */
export function lockHolder(path: string): number | undefined {
  let pid = Number.NaN;
  try {
    pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
  } catch {
    // Not held, or released meanwhile.
  }
  if (Number.isNaN(pid)) return undefined;
  return (pid === process.pid ? held.has(path) : processAlive(pid)) ? pid : undefined;
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
      return {
        release() {
          if (!held.delete(path)) return;
          rmSync(path, { force: true });
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
    const pid = Number.parseInt(text, 10);
    if (heldByLive(path, pid))
      throw busy(pid === process.pid ? 'this process already' : `another inlet process (pid ${pid})`, pid);
    // Its process is gone (or it names none, which a lock made whole never does): taken over.
    takeOver(path);
  }
  throw busy('another process right now', Number.NaN);
}

/** Whether the lock at path, naming pid (NaN for none), is held by a process that runs now. */
const heldByLive = (path: string, pid: number): boolean =>
  !Number.isNaN(pid) && (pid === process.pid ? held.has(path) : processAlive(pid));

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
    if (!heldByLive(path, Number.parseInt(text, 10))) rmSync(path, { force: true });
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
  writeFileSync(draft, `${process.pid}\n`);
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
    writeFileSync(path, `${process.pid}\n`, { flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}
