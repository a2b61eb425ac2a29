import type { SqlDatabase } from '../state/index.ts';
import type { RunRecord, StepRecord } from './run-history.ts';
import { ownerGone } from './run-owner.ts';

/** Why an abandoned run ended, as its error says it. */
const ABANDONED = 'the process running it stopped before it finished';

/** What is read of a run that is running, to tell whether its process is gone and when it was last heard from. */
interface StaleCandidate {
  id: number;
  owner: string;
  trigger: RunRecord['trigger'];
  created_at: string;
  started_at: string | null;
  heartbeat_at: string;
  /**
   * When its last step to end ended; null before then. A step's start is no later sign: the first one
   * starts in the milliseconds after the run, whose duration read as known (0 s), and any other as
   * the one before it ends.
   */
  step_at: string | null;
}

/**
 * A running run whose process is gone or silent, and what a writer of the store makes of it: a
 * scheduled run that never started is released for the next scheduler to take up; any other is
 * abandoned, with its duration and error, and its running step failed with its own.
 */
export type StaleRun =
  | { id: number; release: true }
  | {
      id: number;
      release: false;
      owner: string;
      /** Known gone (ownerGone) rather than silent past the cutoff. */
      gone: boolean;
      /** The last time it was heard from: its last heartbeat, or a step ending since. */
      last: string;
      duration: number | null;
      error: string;
      /** Its running step's duration and error, once failed. */
      step: { duration: number | null; error: string } | undefined;
    };

const msFrom = (from: string, to: string) => Date.parse(to) - Date.parse(from);

/** The last time a run was known to be going: its last heartbeat, or a step ending since. */
const lastSignOfLife = (run: StaleCandidate): string =>
  run.step_at !== null && run.step_at > run.heartbeat_at ? run.step_at : run.heartbeat_at;

/**
 * An abandoned run's duration and why it ended. The process died some time after it was last
 * heard from, so the run went on at least until then: that is its duration. Killed before it was
 * heard from after its start (before its first heartbeat), it showed as "abandoned in 0 s", a time
 * nobody knows; it has none now, and its error says so.
 */
function abandonedRun(run: StaleCandidate): { duration: number | null; error: string } {
  if (run.started_at === null)
    return { duration: null, error: `${ABANDONED}, while the run waited its turn to start` };
  const last = lastSignOfLife(run);
  if (last <= run.started_at)
    return {
      duration: null,
      error: `${ABANDONED}, and before it was heard from after the run started (its first heartbeat), so how long the run went on is not known`,
    };
  return { duration: msFrom(run.started_at, last), error: ABANDONED };
}

/** Its running step as abandoned: it too runs to the last sign of life (noticed in the morning, it had taken all night). */
function failedStep(stepStart: string, last: string): { duration: number | null; error: string } {
  return last > stepStart
    ? { duration: msFrom(stepStart, last), error: ABANDONED }
    : {
        duration: null,
        error: `${ABANDONED}, and before it was heard from after this step started, so how long the step went on is not known`,
      };
}

/**
 * The running runs whose process sent no heartbeat for olderThanMs, or is known to be gone, and what
 * a writer makes of each; only reads, so a reader that may not write the store shows them the same.
 */
export function findStaleRuns(db: SqlDatabase, olderThanMs: number): StaleRun[] {
  const cutoff = new Date(Date.now() - olderThanMs).toISOString();
  // Read before any step is marked failed, which gives it a finished_at of now.
  const running = db
    .prepare(
      'SELECT id, owner, trigger, created_at, started_at, coalesce(heartbeat_at, created_at) AS heartbeat_at, ' +
        '(SELECT max(s.finished_at) FROM workflow_run_steps s WHERE s.run_id = r.id) AS step_at ' +
        "FROM workflow_runs r WHERE status = 'running' AND owner <> ''",
    )
    .all() as StaleCandidate[];
  const stepStart = db.prepare(
    "SELECT started_at FROM workflow_run_steps WHERE run_id = ? AND status = 'running'",
  );
  return running.flatMap((run): StaleRun[] => {
    // A process of this host that is gone is known dead at once: after kill -9 and a restart, its
    // run showed as running beside the new process's for the two minutes its heartbeats took.
    const gone = ownerGone(run.owner, run.created_at);
    if (run.heartbeat_at >= cutoff && !gone) return [];
    // Killed while it waited its turn, it was never attempted: the next scheduler runs it. A manual
    // one belongs to the command that started it, and is abandoned with it.
    if (run.started_at === null && run.trigger !== 'manual') return [{ id: run.id, release: true }];
    const last = lastSignOfLife(run);
    const step = stepStart.get(run.id) as { started_at: string } | undefined;
    return [
      {
        id: run.id,
        release: false,
        owner: run.owner,
        gone,
        last,
        ...abandonedRun(run),
        step: step ? failedStep(step.started_at, last) : undefined,
      },
    ];
  });
}

/** Why a run is shown as abandoned that the store, which this reader may not write, says is running. */
const shownNote = (run: Extract<StaleRun, { release: false }>): string =>
  `its process (${run.owner}) ${run.gone ? `is no longer running (last heard from at ${run.last})` : `stopped sending heartbeats at ${run.last}`}; shown as abandoned, which the state store (this user may not write it) records at the next inlet start, or inlet runs by a user who may write it`;

/** Runs by id, as a sentence names them: run 4; runs 4 and 2; runs 5, 4 and 2. */
const runIds = (ids: readonly number[]): string =>
  ids.length === 1 ? `run ${ids[0]}` : `runs ${ids.slice(0, -1).join(', ')} and ${ids.at(-1)}`;

/**
 * Why the runs of a list shown as abandoned (showStale) are, said once below it, whose rows carry no
 * note: they showed as abandoned with no word that the store says running, nor why. Undefined where
 * none is shown so.
 */
export function shownAbandonedLine(stale: readonly StaleRun[], olderThanMs: number): string | undefined {
  const shown = stale.flatMap((run) => (run.release ? [] : [run]));
  if (shown.length === 0) return undefined;
  const gone = shown.flatMap((run) => (run.gone ? [run.id] : []));
  const silent = shown.flatMap((run) => (run.gone ? [] : [run.id]));
  const why = [
    ...(gone.length === 0
      ? []
      : [`${runIds(gone)}, whose ${gone.length > 1 ? 'processes are' : 'process is'} no longer running`]),
    ...(silent.length === 0
      ? []
      : [
          `${runIds(silent)}, whose process${silent.length > 1 ? 'es' : ''} sent no heartbeat for ${olderThanMs / 60_000} minutes`,
        ]),
  ];
  const [it, is, each] = shown.length > 1 ? ['them', 'they are', 'each'] : ['it', 'it is', 'it'];
  return `Shown as abandoned: ${why.join(', and ')}. The state store still says ${is} running, as this user may not write it; the next inlet start, or inlet runs by a user who may write it, records ${it} as abandoned. inlet runs <id> says when ${each} was last heard from.`;
}

/**
 * A run as a writer would leave it that found it stale (findStaleRuns), for a reader that may not
 * write the store: released (no owner), or abandoned with a note saying the store does not say so yet.
 */
export function asWriterLeavesIt<R extends RunRecord>(run: R, stale: StaleRun | undefined): R {
  if (!stale) return run;
  if (stale.release) return { ...run, owner: '' };
  return {
    ...run,
    status: 'abandoned',
    duration_ms: stale.duration,
    error: stale.error,
    note: [run.note, shownNote(stale)].filter(Boolean).join('; '),
  };
}

/** A run's running step as a writer would leave it that found the run stale: failed, with its duration and error. */
export function stepAsWriterLeavesIt(step: StepRecord, stale: StaleRun | undefined): StepRecord {
  if (!stale || stale.release || !stale.step || step.status !== 'running') return step;
  return { ...step, status: 'failed', duration_ms: stale.step.duration, error: stale.step.error };
}
