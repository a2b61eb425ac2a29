import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InletError } from '../../errors/index.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// Locks this process holds: a lock file with our own pid that is not in here was left by an earlier
// process that had the same pid (common in containers).
const held = new Set<string>();

/**
 * Lets one process at a time sync a source: two runs would stage into the same run directory. A
 * lock left by a killed process (its pid no longer runs) is taken over, so a crash never needs
 * manual cleanup.
 */
export function acquireSyncLock(sourceDir: string, source: string): { release(): void } {
  mkdirSync(sourceDir, { recursive: true });
  const path = join(sourceDir, '.sync.lock');
  const busy = (pid: number) =>
    new InletError(
      'SYNC_BUSY',
      `Source "${source}" is being synced by another run (pid ${pid}); wait for it to finish.`,
    );
  if (held.has(path)) throw busy(process.pid);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, String(process.pid), { flag: 'wx' });
      held.add(path);
      return {
        release() {
          held.delete(path);
          rmSync(path, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && alive(holder))
        throw busy(holder);
      rmSync(path, { force: true });
    }
  }
  throw new InletError('SYNC_BUSY', `Could not lock source "${source}" for syncing; try again.`);
}
