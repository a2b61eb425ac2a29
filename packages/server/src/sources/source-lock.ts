import { InletError } from '../errors/index.ts';
import { acquireProcessLock, type ProcessLock } from '../state/index.ts';

export type SourceLock = ProcessLock;

/**
 * Lets one process at a time work on a source (a database sync staging into its run directory, or
 * a log tail reading from its checkpoint): two would write the same rows twice.
 */
export function acquireSourceLock(path: string, source: string, activity: 'synced' | 'read'): SourceLock {
  // A log source is read by inlet start's tail too, which never finishes: "wait for it to finish"
  // had people wait for nothing.
  const advice =
    activity === 'read'
      ? '. If that is inlet start, it tails the files and reads new lines as they come, so no sync is needed while it runs; if it is an inlet sync, wait for it to finish.'
      : '; wait for it to finish, or stop it.';
  return acquireProcessLock(
    path,
    (holder, pid) =>
      new InletError('SYNC_BUSY', `Source "${source}" is being ${activity} by ${holder}${advice}`, {
        details: { source, pid: Number.isNaN(pid) ? null : pid },
      }),
  );
}
