import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { InletError } from '../errors/index.ts';
import { acquireProcessLock, lockHolder, type ProcessLock } from '../state/index.ts';

/** How often a run waiting for another process's run of its workflow looks again. */
const WAIT_MS = 1_000;

export interface WorkflowLocks {
  /** The pid of a process (or another scheduler) running the workflow now, if any. */
  heldElsewhere(workflow: string): number | undefined;
  /** Waits until this scheduler may run the workflow; undefined when signal aborts first. */
  acquire(workflow: string, signal: AbortSignal): Promise<ProcessLock | undefined>;
}

/**
 * One lock file a workflow (state/locks/workflow-<name>.lock), held while a run of it goes, so
 * runs of a workflow go one after another across processes too: inlet runs start beside inlet start
 * ran both at once.
 */
export function createWorkflowLocks(stateDir: string): WorkflowLocks {
  const path = (workflow: string) => join(stateDir, 'locks', `workflow-${workflow}.lock`);
  /** The workflows this scheduler holds: a lock of this process is another scheduler's otherwise. */
  const mine = new Set<string>();
  const busy = () => new InletError('WORKFLOW_BUSY', 'the workflow is running');
  return {
    heldElsewhere: (workflow) => (mine.has(workflow) ? undefined : lockHolder(path(workflow))),
    async acquire(workflow, signal) {
      for (;;) {
        try {
          const lock = acquireProcessLock(path(workflow), busy);
          mine.add(workflow);
          return {
            release() {
              mine.delete(workflow);
              lock.release();
            },
          };
        } catch (error) {
          // Only another process's run is waited for: a folder where the lock goes (DATA_DIR_UNUSABLE)
          // was waited for too, and the run waited for ever, saying nothing.
          if (!(error instanceof InletError && error.code === 'WORKFLOW_BUSY')) throw error;
        }
        try {
          await sleep(WAIT_MS, undefined, { signal });
        } catch {
          return undefined;
        }
      }
    },
  };
}
