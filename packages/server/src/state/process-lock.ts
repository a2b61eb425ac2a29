import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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
    if (!Number.isNaN(pid) && (pid === process.pid ? held.has(path) : processAlive(pid)))
      throw busy(pid === process.pid ? 'this process already' : `another inlet process (pid ${pid})`, pid);
    // Its process is gone (or it names none, which a lock made whole never does): taken over.
    takeOver(path, text);
  }
  throw busy('another process right now', Number.NaN);
}

/**
 * Removes the lock file at path, left by a process gone, whose text was `seen`: moved aside first, and
 * put back unless it is still that one. Two processes that both read the dead pid both removed the
 * file: the first, then the lock the first had just taken in its place, and both held it.
 */
function takeOver(path: string, seen: string): void {
  const aside = `${path}.${process.pid}.stale`;
  try {
    renameSync(path, aside);
  } catch (error) {
    // Taken over by another meanwhile, and released.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  try {
    if (readFileSync(aside, 'utf8') === seen) return;
    // Another process's, made since: back under its name, unless a third has taken that meanwhile.
    linkSync(aside, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    rmSync(aside, { force: true });
  }
}

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
