import { InletError } from '../errors/index.ts';
import { acquireProcessLock, type ProcessLock } from '../state/index.ts';

export type SourceLock = ProcessLock;

/**
 * Lets one process at a time work on a source (a database sync staging into its run directory, or
 * a log tail reading from its checkpoint): two would write the same rows twice.
 */
export function acquireSourceLock(path: string, source: string, activity: 'synced' | 'read'): SourceLock {
  return acquireProcessLock(
    path,
    (holder, pid) =>
      new InletError(
        'SYNC_BUSY',
        `Source "${source}" is being ${activity} by ${holder}; wait for it to finish, or stop it.`,
        { details: { source, pid: Number.isNaN(pid) ? null : pid } },
      ),
  );
}
