import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { InletError } from '../errors/index.ts';

// Locks this process holds, so a lock file naming our own pid is told apart from one left behind
// by an earlier process that had the same pid (pid 1 in every container start).
const held = new Set<string>();

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

export interface SourceLock {
  release(): void;
}

/**
 * Lets one process at a time work on a source (a database sync staging into its run directory, or
 * a log tail reading from its checkpoint): two would write the same rows twice. A lock whose
 * process is gone is taken over, so a crash never needs manual cleanup.
 */
export function acquireSourceLock(path: string, source: string, activity: 'synced' | 'read'): SourceLock {
  mkdirSync(dirname(path), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: 'wx' });
      held.add(path);
      return {
        release() {
          if (!held.delete(path)) return;
          rmSync(path, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let pid = Number.NaN;
    try {
      pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
    } catch {
      // Released between the two calls.
    }
    const stale = Number.isNaN(pid) || (pid === process.pid ? !held.has(path) : !alive(pid));
    if (!stale) {
      const who = pid === process.pid ? 'this process already' : `another inlet process (pid ${pid})`;
      throw new InletError(
        'SYNC_BUSY',
        `Source "${source}" is being ${activity} by ${who}; wait for it to finish, or stop it.`,
        {
          details: { source, pid },
        },
      );
    }
    rmSync(path, { force: true });
  }
  throw new InletError(
    'SYNC_BUSY',
    `Source "${source}" is being locked by another process right now; retry.`,
  );
}
