import { InletError } from '../errors/index.ts';
import type { StateStore } from '../state/index.ts';
import { asWriterLeavesIt, findStaleRuns, type StaleRun, stepAsWriterLeavesIt } from './stale-runs.ts';

/** Every status a run can have, for checking a filter before it silently matches nothing. */
export const RUN_STATUSES = ['running', 'success', 'failed', 'timed_out', 'stopped', 'abandoned'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** The most runs a page of the list holds, for inlet runs --limit and GET /api/runs?limit= alike. */
export const MAX_RUNS_PAGE = 1000;

/**
 * What is wrong with a page size as typed, or undefined: digits only, as Number() also reads 1e3,
 * 0x10 and " 10", from 1 to MAX_RUNS_PAGE.
 */
export function runsLimitProblem(text: string): string | undefined {
  const limit = Number(text);
  return /^\d+$/.test(text) && limit >= 1 && limit <= MAX_RUNS_PAGE
    ? undefined
    : `must be a whole number from 1 to ${MAX_RUNS_PAGE}`;
}
export type StepStatus = 'running' | 'success' | 'failed' | 'timed_out' | 'stopped' | 'skipped';

export interface RunRecord {
  id: number;
  workflow: string;
  /** The cron time this run is for (ISO, UTC); null for a run started by hand. */
  scheduled_for: string | null;
  trigger: 'schedule' | 'catchup' | 'manual';
  status: RunStatus;
  /** The process that runs it (host:pid). */
  owner: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  duration_ms: number | null;
  error: string | null;
  /**
   * What a reader of the run should know of how it came to run, or null: a workflow switched off
   * (enabled: false) and started by hand says so.
   */
  note: string | null;
}

export interface StepRecord {
  position: number;
  step: string;
  status: StepStatus;
  attempts: number;
  started_at: string | null;
  finished_at: string | null;
  duration_ms: number | null;
  log: string;
  error: string | null;
}

export interface RunHistory {
  /** Claims (workflow, scheduled time) for this process; undefined when someone already has it. */
  claim(run: {
    workflow: string;
    scheduledFor: string | null;
    trigger: RunRecord['trigger'];
    owner: string;
    note?: string;
  }): number | undefined;
  /**
   * Marks a run started; false when it had started already or is no longer running (another
   * scheduler took it up, or it was marked abandoned while it waited): it must not run here.
   */
  start(id: number): boolean;
  /**
   * Leaves a scheduled run that never started for the next scheduler to take up (owner ''): inlet
   * stopped while it waited its turn. It was never attempted, so it is neither failed nor abandoned.
   */
  release(id: number): void;
  /**
   * Takes up the released runs of these workflows for this owner, oldest first, in one statement so
   * two schedulers never both take one.
   */
  takeUpReleased(workflows: string[], owner: string): Array<Pick<RunRecord, 'id' | 'workflow' | 'trigger'>>;
  /**
   * Ends, as abandoned, the released runs of workflows not among these (removed from the
   * configuration): no scheduler would ever take them up. A disabled workflow's stay released.
   * `configuredIn` says where the workflows are configured (workflowPlaces), which the error names.
   */
  abandonReleasedOfRemoved(
    workflows: string[],
    configuredIn: string,
  ): Array<Pick<RunRecord, 'id' | 'workflow'>>;
  heartbeat(id: number): void;
  /**
   * Records how a run ended, once: a run no longer running (marked abandoned while its process was
   * silent) keeps its status, and false says so.
   */
  finish(id: number, status: RunStatus, error?: string): boolean;
  /** Step writes land only while their run is running: an abandoned run's steps stay as marked. */
  startStep(id: number, position: number, step: string): void;
  /** Records a step that never started (an earlier one failed): no start, end or duration, and why. */
  skipStep(id: number, position: number, step: string, log: string): void;
  updateStep(
    id: number,
    position: number,
    update: { status?: StepStatus; attempts?: number; log?: string; error?: string },
  ): void;
  /**
   * Marks runs whose process stopped sending heartbeats, or is known to be gone (ownerGone), as
   * abandoned; returns how many. A scheduled run of such a process that never started is released
   * instead (see release), not abandoned.
   */
  abandonStale(olderThanMs: number): number;
  /**
   * Shows in list and get the runs abandonStale would mark as it would mark them, without writing
   * the store: read read-only, they showed as running until a process that may write it came.
   * Returns them, to say why below a list (shownAbandonedLine).
   */
  showStale(olderThanMs: number): readonly StaleRun[];
  /**
   * Takes the abandoned runs no process has counted yet, marking them counted: the workflow of
   * each, so a scheduler counts every abandoned run once, whoever marked it.
   */
  takeUncountedAbandoned(): string[];
  /** Newest first; before: only runs with a lower id, to page on from the oldest of the last page. */
  list(filter?: { workflow?: string; status?: string; limit?: number; before?: number }): RunRecord[];
  get(id: number): (RunRecord & { steps: StepRecord[] }) | undefined;
  /** Every workflow that has a run, by name. */
  workflowNames(): string[];
}

const iso = () => new Date().toISOString();
/** SQL for the milliseconds between two ISO times; rounded, as julianday's days are not exact (29999 for 30 s). */
const msBetween = (from: string, to: string) =>
  `CAST(round((julianday(${to}) - julianday(${from})) * 86400000) AS INTEGER)`;
/** SQL true for a run still waiting its turn, never started. */
const UNSTARTED = "status = 'running' AND started_at IS NULL";
/** Leaves the run whose id is the parameter, if it never started, to the next scheduler (owner ''). */
const RELEASE = `UPDATE workflow_runs SET owner = '' WHERE id = ? AND ${UNSTARTED}`;

/**
 * Why a released run of a workflow no longer configured was ended, after its quoted name. It said
 * inlet.yaml and project/workflows/ whichever file was read (--config prod.yaml) and whatever
 * project_dir was.
 */
const removed = (configuredIn: string) =>
  `is no longer in ${configuredIn}; the run never started (it waited its turn when inlet stopped)`;

/** SQL true while the run whose id is the parameter is running. */
const RUN_IS_RUNNING = "EXISTS (SELECT 1 FROM workflow_runs WHERE id = ? AND status = 'running')";

const RUN_COLUMNS =
  'id, workflow, scheduled_for, trigger, status, owner, created_at, started_at, finished_at, duration_ms, error, note';

/** Run history in the state store (tables from migration 20). */
/**
 * The run an id names, as typed (digits) or as a number; else a NOT_FOUND naming the id as read
 * (0012 is 12; digits past 2^53, which Number() would round into another id, as typed), the newest
 * run, and where the runs are listed (`lists`: 'inlet runs', 'GET /api/runs').
 */
export function runById(
  history: RunHistory,
  id: number | string,
  lists: string,
): RunRecord & { steps: StepRecord[] } {
  const number = Number(id);
  const safe = (typeof id === 'number' || /^\d+$/.test(id)) && Number.isSafeInteger(number);
  const run = safe ? history.get(number) : undefined;
  if (run) return run;
  const newest = history.list({ limit: 1 })[0]?.id;
  const known = newest === undefined ? 'no workflow has run yet' : `the newest run is ${newest}`;
  throw new InletError('NOT_FOUND', `No run has id ${safe ? number : id}; ${known} (${lists} lists them).`);
}

export function createRunHistory(state: StateStore): RunHistory {
  const { db } = state;
  // The runs showStale shows as a writer would leave them, by id.
  let shown = new Map<number, StaleRun>();
  const insert = db.prepare(
    'INSERT INTO workflow_runs (workflow, scheduled_for, trigger, status, owner, created_at, heartbeat_at, note) ' +
      "VALUES (?, ?, ?, 'running', ?, ?, ?, ?) ON CONFLICT (workflow, scheduled_for) DO NOTHING",
  );
  const finishStep = (status: StepStatus) =>
    status === 'running' ? '' : `, finished_at = @now, duration_ms = ${msBetween('started_at', '@now')}`;
  return {
    claim({ workflow, scheduledFor, trigger, owner, note }) {
      const now = iso();
      const result = insert.run(workflow, scheduledFor, trigger, owner, now, now, note ?? null);
      return result.changes === 1 ? Number(result.lastInsertRowid) : undefined;
    },
    start(id) {
      // One time for both: a heartbeat a millisecond after the start read as a run heard from since.
      const now = iso();
      return (
        db
          .prepare(
            "UPDATE workflow_runs SET started_at = ?, heartbeat_at = ? WHERE id = ? AND status = 'running' AND started_at IS NULL",
          )
          .run(now, now, id).changes === 1
      );
    },
    release(id) {
      db.prepare(RELEASE).run(id);
    },
    takeUpReleased(workflows, owner) {
      const now = iso();
      // Its claim time becomes this process's: an owner of this pid claimed before this process
      // started reads as an earlier process of a container (ownerGone).
      const taken = db
        .prepare(
          `UPDATE workflow_runs SET owner = ?, created_at = ?, heartbeat_at = ? WHERE owner = '' AND ${UNSTARTED} ` +
            'AND workflow IN (SELECT value FROM json_each(?)) RETURNING id, workflow, trigger',
        )
        .all(owner, now, now, JSON.stringify(workflows)) as Array<
        Pick<RunRecord, 'id' | 'workflow' | 'trigger'>
      >;
      return taken.sort((a, b) => a.id - b.id);
    },
    abandonReleasedOfRemoved(workflows, configuredIn) {
      // One statement, so two schedulers never both end one; it is counted once on /metrics as any
      // abandoned run is (takeUncountedAbandoned). It never started: no duration.
      const ended = db
        .prepare(
          `UPDATE workflow_runs SET status = 'abandoned', finished_at = ?, duration_ms = NULL, error = 'workflow "' || workflow || '" ' || ? ` +
            `WHERE owner = '' AND ${UNSTARTED} AND workflow NOT IN (SELECT value FROM json_each(?)) RETURNING id, workflow`,
        )
        .all(iso(), removed(configuredIn), JSON.stringify(workflows)) as Array<
        Pick<RunRecord, 'id' | 'workflow'>
      >;
      return ended.sort((a, b) => a.id - b.id);
    },
    heartbeat(id) {
      db.prepare("UPDATE workflow_runs SET heartbeat_at = ? WHERE id = ? AND status = 'running'").run(
        iso(),
        id,
      );
    },
    finish(id, status, error) {
      const now = iso();
      // A run marked abandoned whose process finished it after all was overwritten (success), and
      // counted on /metrics twice: as abandoned, then as success. One that never started (stopped
      // while it waited its turn) has no duration, as an abandoned one has none.
      return (
        db
          .prepare(
            'UPDATE workflow_runs SET status = ?, error = ?, finished_at = ?, ' +
              `duration_ms = CASE WHEN started_at IS NULL THEN NULL ELSE ${msBetween('started_at', '?')} END WHERE id = ? AND status = 'running'`,
          )
          .run(status, error ?? null, now, now, id).changes === 1
      );
    },
    startStep(id, position, step) {
      db.prepare(
        "INSERT INTO workflow_run_steps (run_id, position, step, status, started_at) SELECT ?, ?, ?, 'running', ? " +
          `WHERE ${RUN_IS_RUNNING} ON CONFLICT (run_id, position) DO UPDATE SET status = 'running', started_at = excluded.started_at`,
      ).run(id, position, step, iso(), id);
    },
    skipStep(id, position, step, log) {
      db.prepare(
        "INSERT INTO workflow_run_steps (run_id, position, step, status, log) SELECT ?, ?, ?, 'skipped', ? " +
          `WHERE ${RUN_IS_RUNNING} ON CONFLICT (run_id, position) DO UPDATE SET status = 'skipped', log = excluded.log`,
      ).run(id, position, step, log, id);
    },
    updateStep(id, position, update) {
      const sets: string[] = [];
      const params: Record<string, unknown> = { id, position, now: iso() };
      for (const key of ['status', 'attempts', 'log', 'error'] as const) {
        if (update[key] === undefined) continue;
        sets.push(`${key} = @${key}`);
        params[key] = update[key];
      }
      if (sets.length === 0) return;
      db.prepare(
        `UPDATE workflow_run_steps SET ${sets.join(', ')}${update.status ? finishStep(update.status) : ''} ` +
          `WHERE run_id = @id AND position = @position AND ${RUN_IS_RUNNING.replace('?', '@id')}`,
      ).run(params);
    },
    abandonStale(olderThanMs) {
      return db.transaction(() => {
        const now = iso();
        // The step the process was in would otherwise show as running for ever under inlet runs <id>.
        const failStep = db.prepare(
          "UPDATE workflow_run_steps SET status = 'failed', error = @error, finished_at = @now, " +
            "duration_ms = @duration WHERE run_id = @id AND status = 'running'",
        );
        const abandon = db.prepare(
          "UPDATE workflow_runs SET status = 'abandoned', finished_at = @now, error = @error, " +
            "duration_ms = @duration WHERE id = @id AND status = 'running'",
        );
        const release = db.prepare(RELEASE);
        let changes = 0;
        for (const run of findStaleRuns(db, olderThanMs)) {
          if (run.release) {
            release.run(run.id);
            continue;
          }
          if (run.step) failStep.run({ id: run.id, now, ...run.step });
          changes += abandon.run({ id: run.id, now, error: run.error, duration: run.duration }).changes;
        }
        return changes;
      })();
    },
    showStale(olderThanMs) {
      const stale = findStaleRuns(db, olderThanMs);
      shown = new Map(stale.map((run) => [run.id, run]));
      return stale;
    },
    takeUncountedAbandoned() {
      // One statement, so two schedulers sharing the store never both take a run.
      const taken = db
        .prepare(
          "UPDATE workflow_runs SET abandoned_counted = 1 WHERE status = 'abandoned' AND abandoned_counted = 0 RETURNING workflow",
        )
        .all() as Array<{ workflow: string }>;
      return taken.map((row) => row.workflow);
    },
    list(filter = {}) {
      const where: string[] = [];
      const params: unknown[] = [];
      if (filter.workflow) {
        where.push('workflow = ?');
        params.push(filter.workflow);
      }
      if (filter.status) {
        // By the status shown: a run shown as abandoned is one, though the store says running.
        const abandoned = [...shown.values()].flatMap((run) => (run.release ? [] : [run.id]));
        const isShown = 'id IN (SELECT value FROM json_each(?))';
        where.push(
          filter.status === 'abandoned' ? `(status = ? OR ${isShown})` : `status = ? AND NOT ${isShown}`,
        );
        params.push(filter.status, JSON.stringify(abandoned));
      }
      if (filter.before !== undefined) {
        where.push('id < ?');
        params.push(filter.before);
      }
      params.push(filter.limit ?? 50);
      return (
        db
          .prepare(
            `SELECT ${RUN_COLUMNS} FROM workflow_runs ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`,
          )
          .all(...params) as RunRecord[]
      ).map((run) => asWriterLeavesIt(run, shown.get(run.id)));
    },
    workflowNames() {
      return (
        db.prepare('SELECT DISTINCT workflow FROM workflow_runs ORDER BY workflow').all() as Array<{
          workflow: string;
        }>
      ).map((row) => row.workflow);
    },
    get(id) {
      const run = db.prepare(`SELECT ${RUN_COLUMNS} FROM workflow_runs WHERE id = ?`).get(id) as
        | RunRecord
        | undefined;
      if (!run) return undefined;
      const steps = db
        .prepare(
          'SELECT position, step, status, attempts, started_at, finished_at, duration_ms, log, error FROM workflow_run_steps WHERE run_id = ? ORDER BY position',
        )
        .all(id) as StepRecord[];
      const stale = shown.get(id);
      return asWriterLeavesIt(
        { ...run, steps: steps.map((step) => stepAsWriterLeavesIt(step, stale)) },
        stale,
      );
    },
  };
}
