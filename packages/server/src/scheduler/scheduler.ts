import { CATCHUP_LIMIT, type InletConfig } from '../config/index.ts';
import { InletError } from '../errors/index.ts';
import { errorFields, type Logger } from '../log/index.ts';
import type { Metrics } from '../metrics/index.ts';
import type { StateStore } from '../state/index.ts';
import { dueTimes } from './cron-schedule.ts';
import type { RunHistory, RunRecord } from './run-history.ts';
import { processOwner } from './run-owner.ts';
import { reportsMissing, type StepHandlers } from './step-handlers.ts';
import { executeRun } from './workflow-executor.ts';
import { type Workflow, workflowPlaces } from './workflow-loader.ts';
import { createWorkflowLocks } from './workflow-lock.ts';
import { leftOutWorkflowMessage, listWorkflows, noWorkflowConfigured } from './workflows-left-out.ts';

export interface Scheduler {
  start(): void;
  /** Stops ticking, stops the runs in progress at a safe point and waits for them. */
  stop(): Promise<void>;
  /** Looks at the clock once: claims and starts every run that is due; returns the ids it claimed. */
  tick(): Promise<number[]>;
  /** Starts a run of a workflow now, outside its schedule; returns its id. */
  trigger(workflow: string): number;
  /** Resolves when no run started by this scheduler is still going. */
  idle(): Promise<void>;
}

const CURSOR_SCOPE = 'scheduler:cursor';
/** How often a claimed run tells the store it is alive; one silent for eight of these is abandoned. */
const HEARTBEAT_MS = 15_000;
/** A run whose process sent no heartbeat for this long is abandoned (eight heartbeats missed). */
export const STALE_RUN_MS = 8 * HEARTBEAT_MS;

/** Why a manual run stopped while it waited for another process's run of its workflow. */
const STOPPED_WAITING = 'inlet stopped while the run waited its turn to start';

/** A manual start refused while another process runs the workflow, naming that run to wait for. */
function busyError(history: RunHistory, workflow: string, pid: number): InletError {
  const run = history
    .list({ workflow, status: 'running' })
    .find((r) => r.started_at !== null && r.owner.endsWith(`:${pid}`));
  return new InletError(
    'WORKFLOW_BUSY',
    `Workflow "${workflow}" is running now in another inlet process (pid ${pid}${run ? `, run ${run.id}` : ''}); runs of a workflow go one after another: start it again once that run is done${run ? ` (inlet runs ${run.id} shows it)` : ''}.`,
    { details: { workflow, ...(run && { run: run.id }) } },
  );
}

/** What is said of a workflow switched off, which its schedule does not run, and then what else. */
const switchedOff = (workflow: Workflow, then: string): string =>
  `workflow "${workflow.name}" is switched off (enabled: false in ${workflow.origin}): its schedule does not run it; ${then}`;

/**
 * The scheduler: on each tick, for each workflow, the cron times since it last looked are due
 * (per the workflow's catchup), and each is claimed in the run history first. The claim is a
 * unique key in the state store, so a time runs at most once across restarts and across every
 * process sharing the store. Runs of one workflow go one after another; workflows run side by side.
 */
export function createScheduler(options: {
  workflows: Workflow[];
  /** The configuration the workflows were read from, named in the error of a run of one removed since. */
  config: Pick<InletConfig, 'configPath' | 'project_dir' | 'workflowsLeftOut'>;
  state: StateStore;
  history: RunHistory;
  handlers: StepHandlers;
  logger: Logger;
  /** The data directory's state directory, where the lock of a workflow that is running is kept. */
  stateDir: string;
  /** Where finished runs are counted (inlet_workflow_runs_total), when the process serves /metrics. */
  metrics?: Metrics;
  /** The clock, replaceable so tests can jump across a downtime. */
  now?: () => number;
  tickMs?: number;
  heartbeatMs?: number;
  owner?: string;
}): Scheduler {
  const { workflows, state, history, handlers } = options;
  const logger = options.logger.child({ module: 'scheduler' });
  const now = options.now ?? Date.now;
  const finished = options.metrics?.counter(
    'inlet_workflow_runs_total',
    'Workflow runs finished, by workflow and status (success, failed, timed_out, stopped, abandoned)',
    ['workflow', 'status'],
  );
  const owner = options.owner ?? processOwner();
  const heartbeatMs = options.heartbeatMs ?? HEARTBEAT_MS;
  const locks = createWorkflowLocks(options.stateDir);
  for (const workflow of workflows)
    for (const step of workflow.steps)
      if (step.kind === 'report' && !handlers.report) throw reportsMissing(workflow, step.text);
  const shutdown = new AbortController();
  const chains = new Map<string, Promise<unknown>>();
  /** Runs claimed by this process and not finished yet, per workflow. */
  const unfinished = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;
  let ticking: Promise<number[]> | undefined;

  const enqueue = (workflow: Workflow, id: number, trigger: RunRecord['trigger']) => {
    // From its claim on, not from its start: a run waiting behind a long run of its workflow was
    // marked abandoned after two minutes of silence, and then run all the same.
    // A state store that refuses the write (a full disk) is logged, not thrown from a timer, which
    // would stop inlet; the run is marked abandoned by others if the heartbeats stay missing.
    const beat = setInterval(() => {
      try {
        history.heartbeat(id);
      } catch (error) {
        logger.warn({ ...errorFields(error), run: id }, 'a workflow run could not record its heartbeat');
      }
    }, heartbeatMs);
    unfinished.set(workflow.name, (unfinished.get(workflow.name) ?? 0) + 1);
    const previous = chains.get(workflow.name) ?? Promise.resolve();
    const next = previous
      .then(async () => {
        // A run of it in another process (inlet runs start) goes first; this one waits, running
        // with no started_at, as it does behind a run of this process.
        const lock = shutdown.signal.aborted
          ? undefined
          : await locks.acquire(workflow.name, shutdown.signal);
        // A scheduled run that had not started when inlet stopped was never attempted: it was
        // recorded failed and never ran. It is left for the next scheduler (takeUpReleased). A manual
        // one belongs to the command that started it, and stops with it, before any step: its first
        // step was recorded stopped after 1 attempt, though it never began.
        if (!lock && trigger === 'manual') {
          const ended = history.finish(id, 'stopped', STOPPED_WAITING);
          logger.info({ workflow: workflow.name, run: id }, 'workflow run stopped before it started');
          return ended ? ('stopped' as const) : undefined;
        }
        if (!lock) {
          history.release(id);
          logger.info({ workflow: workflow.name, run: id }, 'workflow run left to run after the restart');
          return undefined;
        }
        try {
          return await executeRun({ id, workflow, history, handlers, logger, shutdown: shutdown.signal });
        } finally {
          lock?.release();
        }
      })
      .then((status) => status && finished?.inc({ workflow: workflow.name, status }))
      .catch((error: unknown) => {
        logger.error({ ...errorFields(error), run: id }, 'a workflow run failed to run');
        // Its history says why, where it stayed running until marked abandoned, as if inlet had died.
        try {
          if (history.get(id)?.status === 'running') {
            history.finish(id, 'failed', (error as Error).message);
            finished?.inc({ workflow: workflow.name, status: 'failed' });
          }
        } catch {
          // The state store itself failed: logged above.
        }
      })
      .finally(() => {
        clearInterval(beat);
        unfinished.set(workflow.name, (unfinished.get(workflow.name) ?? 1) - 1);
      });
    chains.set(workflow.name, next);
  };

  const tickOnce = async (): Promise<number[]> => {
    const at = now();
    history.abandonStale(heartbeatMs * 8);
    // A run kept for the next scheduler whose workflow has since been removed would wait for ever,
    // running with no owner; a disabled workflow's waits to be enabled again.
    for (const run of history.abandonReleasedOfRemoved(
      workflows.map((w) => w.name),
      workflowPlaces(options.config),
    ))
      logger.warn(
        { workflow: run.workflow, run: run.id },
        'workflow run abandoned: its workflow is no longer configured, and it had not started',
      );
    // Abandoned runs, marked here or by inlet runs or the API (which serve no /metrics): a workflow
    // killed mid-run each night (OOM) was missing from an alert on status!="success".
    if (finished)
      for (const workflow of history.takeUncountedAbandoned())
        finished.inc({ workflow, status: 'abandoned' });
    const claimed: number[] = [];
    // Runs that waited their turn when the scheduler before stopped, or was killed: they run first,
    // and the times that came due since wait behind them as behind any run of their workflow.
    const enabled = workflows.filter((w) => w.enabled);
    for (const run of history.takeUpReleased(
      enabled.map((w) => w.name),
      owner,
    )) {
      const workflow = enabled.find((w) => w.name === run.workflow) as Workflow;
      claimed.push(run.id);
      logger.info({ workflow: workflow.name, run: run.id }, 'workflow run taken up: it had not started');
      enqueue(workflow, run.id, run.trigger);
    }
    for (const workflow of workflows) {
      const cursor = state.getCheckpoint<{ at: number }>(CURSOR_SCOPE, workflow.name);
      const advance = () =>
        state.setCheckpoint(CURSOR_SCOPE, workflow.name, { at: Math.max(at, cursor?.at ?? 0) });
      // The first time a workflow is seen, nothing before now is owed to it; nor is anything that
      // came due while it was disabled, once it is enabled again.
      if (!cursor || !workflow.enabled) {
        advance();
        continue;
      }
      // While a run of it is going, the times that come due wait as missed ones do, and its catchup
      // decides once the run ends: a run longer than the cron's period queued a run every period
      // behind it, a backlog without end.
      if ((unfinished.get(workflow.name) ?? 0) > 0 || locks.heldElsewhere(workflow.name) !== undefined)
        continue;
      let times: number[];
      try {
        times = dueTimes({
          cron: workflow.cron,
          timezone: workflow.timezone,
          after: cursor.at,
          now: at,
          catchup: workflow.catchup,
          limit: workflow.catchup_limit ?? CATCHUP_LIMIT,
        });
      } catch (error) {
        // cron-parser can give up on a cron in a zone whose clocks just changed (Lord Howe Island's
        // half hour): that workflow waits for a later tick, the others run; its cursor stays put.
        logger.error(
          { ...errorFields(error), workflow: workflow.name },
          'the next times of this workflow could not be worked out',
        );
        continue;
      }
      for (const time of times) {
        const trigger = at - time > 90_000 ? 'catchup' : 'schedule';
        const id = history.claim({
          workflow: workflow.name,
          scheduledFor: new Date(time).toISOString(),
          trigger,
          owner,
        });
        if (id === undefined) continue;
        claimed.push(id);
        logger.info(
          { workflow: workflow.name, run: id, scheduled_for: new Date(time).toISOString(), trigger },
          'workflow run claimed',
        );
        enqueue(workflow, id, trigger);
      }
      // Only after the claims: a crash in between makes the next tick look again, and the claims
      // already made keep those times from running twice.
      advance();
    }
    return claimed;
  };

  const loop = async () => {
    try {
      await scheduler.tick();
    } catch (error) {
      logger.error(errorFields(error), 'scheduler tick failed; trying again on the next one');
    }
    if (timer) timer = setTimeout(loop, options.tickMs ?? 15_000);
  };

  const scheduler: Scheduler = {
    start() {
      if (timer) return;
      // The start-up line names every workflow found, those switched off too, as if each ran on its cron.
      for (const workflow of workflows) {
        if (!workflow.enabled)
          logger.info(
            { workflow: workflow.name },
            switchedOff(workflow, `inlet runs start ${workflow.name} runs it now`),
          );
        // Taken without a word, it capped nothing: latest runs one missed time, none none. Not refused,
        // as the docs' example once gave it beside catchup: latest.
        if (workflow.catchup_limit !== undefined && workflow.catchup !== 'all')
          logger.warn(
            { workflow: workflow.name },
            `workflow "${workflow.name}" (${workflow.origin}) gives catchup_limit: ${workflow.catchup_limit}, which only catchup: all reads, and its catchup is ${workflow.catchup}, which runs ${workflow.catchup === 'latest' ? 'only the latest missed time' : 'no missed time'}; remove catchup_limit, or set catchup: all`,
          );
      }
      // With no workflows there is nothing to run, but the runs kept for workflows since removed are
      // ended once.
      if (workflows.length === 0) {
        void loop();
        return;
      }
      timer = setTimeout(loop, 0);
    },
    async stop() {
      const t = timer;
      timer = undefined;
      if (t) clearTimeout(t);
      await ticking;
      shutdown.abort();
      await scheduler.idle();
    },
    tick() {
      // One tick at a time: two overlapping ticks would read the same cursor.
      const next = (ticking ?? Promise.resolve([])).then(tickOnce, tickOnce);
      // stop() waits for the tick going, not for how it went: a tick that failed (a state store that
      // refused a write) left its error for stop(), which threw it before it stopped the runs going,
      // and inlet start's shutdown ended there, the loader and the state store left open.
      ticking = next.catch(() => []);
      return next;
    },
    trigger(name) {
      const workflow = workflows.find((w) => w.name === name);
      if (!workflow)
        throw new InletError(
          'NOT_FOUND',
          leftOutWorkflowMessage(options.config, name) ??
            (workflows.length === 0 && Object.keys(options.config.workflowsLeftOut).length === 0
              ? `No workflow named "${name}": ${noWorkflowConfigured(options.config)}.`
              : `No workflow named "${name}"; workflows: ${listWorkflows(
                  options.config,
                  workflows.map((w) => w.name),
                )}.`),
        );
      const pid = locks.heldElsewhere(name);
      if (pid !== undefined) throw busyError(history, name, pid);
      // A person asked for it, so it runs; but "enabled: false" read as if it had been taken no notice
      // of, and the run looked like any other: the run and the log say the schedule does not run it.
      const note = workflow.enabled ? undefined : switchedOff(workflow, 'this run was started by hand');
      const id = history.claim({
        workflow: name,
        scheduledFor: null,
        trigger: 'manual',
        owner,
        note,
      }) as number;
      if (note) logger.warn({ workflow: name, run: id }, note);
      enqueue(workflow, id, 'manual');
      return id;
    },
    async idle() {
      for (;;) {
        const pending = [...chains.values()];
        await Promise.all(pending);
        if ([...chains.values()].every((p, i) => p === pending[i]) && chains.size === pending.length) return;
      }
    },
  };
  return scheduler;
}
