import type { WorkflowStep } from '../config/index.ts';
import { InletError, isInletError } from '../errors/index.ts';
import { errorFields, type Logger } from '../log/index.ts';
import type { RunHistory, RunStatus } from './run-history.ts';
import { reportsMissing, type StepContext, type StepHandlers } from './step-handlers.ts';
import type { Workflow } from './workflow-loader.ts';

function runStep(
  workflow: Workflow,
  step: WorkflowStep,
  handlers: StepHandlers,
  context: StepContext,
): Promise<void> {
  switch (step.kind) {
    case 'sync':
      return handlers.sync(step.source, context);
    case 'run':
      return handlers.run(step.selectors, step.fullRefresh, context, step.exclude, step.vars);
    case 'test':
      return handlers.test(step.selectors, context, step.exclude, step.vars);
    case 'report':
      if (!handlers.report) throw reportsMissing(workflow, step.text);
      return handlers.report(step.report, context);
  }
}

/** Settles with the step, or rejects as soon as the signal aborts (the caller then waits for the step to stop). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  work.catch(() => undefined);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** How the step that ended a run ended it, as each step it skipped says it. */
const ENDED: Partial<Record<RunStatus, string>> = { timed_out: 'timed out', stopped: 'was stopped' };

const formatDuration = (ms: number) =>
  ms < 1000 ? `${ms} ms` : ms < 120_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`;

/**
 * Errors in the project or the workflow itself (a ref() to no model, a cycle, a selector that names
 * nothing): each attempt reads the same files and fails the same way, so a retry only delays the
 * failure by its back-off, an hour or more, before anyone hears of it.
 */
const LASTING: ReadonlySet<string> = new Set([
  'MODEL_INVALID',
  'MODEL_CYCLE',
  'MODEL_REF_MISSING',
  'MODEL_NOT_FOUND',
  'WORKFLOW_INVALID',
  // inlet.yaml as this process read it (a sync of a source it leaves out, its url's variable unset):
  // every attempt in this process reads the same configuration.
  'CONFIG_INVALID',
]);

/** Why a failure is not retried, when it is one a retry would meet again. */
const notRetried = (failure: unknown, retries: number, workflow: string): string | undefined =>
  retries > 0 && isInletError(failure) && LASTING.has(failure.code)
    ? `not retried: ${failure.code} is an error in the ${failure.code === 'CONFIG_INVALID' ? 'configuration' : 'project'}, which every attempt would meet again; fix it, then run inlet runs start ${workflow}`
    : undefined;

const sleep = (ms: number, signal: AbortSignal) =>
  untilAborted(new Promise<void>((resolve) => setTimeout(resolve, ms).unref()), signal);

/**
 * Runs one claimed run: its steps in order, each retried with doubling waits, the whole run under
 * the workflow's timeout; every step's log and outcome goes to the run history as it happens.
 * Resolves with the status recorded, or undefined when the run was marked abandoned meanwhile.
 */
export async function executeRun(options: {
  id: number;
  workflow: Workflow;
  history: RunHistory;
  handlers: StepHandlers;
  logger: Logger;
  /** Aborted when inlet stops. */
  shutdown: AbortSignal;
}): Promise<RunStatus | undefined> {
  const { id, workflow, history, handlers } = options;
  const logger = options.logger.child({ workflow: workflow.name, run: id });
  // Taken up by another scheduler (after this process was silent long enough for its wait to be
  // released), or marked abandoned meanwhile: it runs there, or not at all.
  if (!history.start(id)) {
    logger.warn('workflow run not started: another scheduler took it up, or it was marked abandoned');
    return undefined;
  }
  const controller = new AbortController();
  const timer = setTimeout(
    () =>
      controller.abort(
        new InletError(
          'WORKFLOW_TIMEOUT',
          `the run took longer than its timeout of ${formatDuration(workflow.timeout)} and was stopped`,
        ),
      ),
    workflow.timeout,
  );
  const onShutdown = () => controller.abort(new Error('inlet stopped while the run was going'));
  options.shutdown.addEventListener('abort', onShutdown, { once: true });
  if (options.shutdown.aborted) onShutdown();
  let status: RunStatus = 'success';
  let error: string | undefined;
  /** The step that failed the run, which every step after it names as why it was skipped. */
  let stopper = '';
  let recorded = false;
  try {
    for (const [position, step] of workflow.steps.entries()) {
      const stamped = (line: string) => `${new Date().toISOString()} ${line}`;
      // A step that never ran has no start and no duration: it showed "0 s" and a started_at.
      if (status !== 'success') {
        const why = `skipped because "${stopper}" ${ENDED[status] ?? 'failed'}`;
        history.skipStep(id, position, step.text, stamped(why));
        continue;
      }
      history.startStep(id, position, step.text);
      const lines: string[] = [];
      const log = (line: string) => {
        lines.push(stamped(line));
        history.updateStep(id, position, { log: lines.join('\n') });
      };
      for (let attempt = 1; ; attempt++) {
        history.updateStep(id, position, { attempts: attempt });
        const work = Promise.resolve().then(() => {
          // A run that was still waiting when inlet stopped must not begin a sync nobody waits for.
          controller.signal.throwIfAborted();
          return runStep(workflow, step, handlers, {
            signal: controller.signal,
            log,
            logger: logger.child({ step: step.text }),
          });
        });
        try {
          await untilAborted(work, controller.signal);
          history.updateStep(id, position, { status: 'success' });
          break;
        } catch (thrown) {
          const aborted = controller.signal.aborted;
          // Told to stop, the step's work (a model's query, a sync's copy) goes on until it notices:
          // the run ended at once, its workflow's lock was released, and the next run began beside it.
          if (aborted) await work.catch(() => undefined);
          const failure = aborted ? controller.signal.reason : thrown;
          const message = (failure as Error).message;
          log(`attempt ${attempt} failed: ${message}`);
          const lasting = aborted
            ? undefined
            : notRetried(failure, workflow.retries - attempt + 1, workflow.name);
          if (lasting) log(lasting);
          if (!aborted && !lasting && attempt <= workflow.retries) {
            const wait = workflow.retry_backoff * 2 ** (attempt - 1);
            log(`retrying in ${wait / 1000} s`);
            try {
              await sleep(wait, controller.signal);
              continue;
            } catch {
              // Timed out or stopped while waiting: fall through as a failure.
            }
          }
          const reason = controller.signal.reason;
          // Stopped by inlet stopping (Ctrl-C, SIGTERM from a deploy or docker stop), during an attempt
          // or a wait between two: recorded failed, it was counted and alerted on as a failure.
          status = !controller.signal.aborted
            ? 'failed'
            : reason instanceof InletError && reason.code === 'WORKFLOW_TIMEOUT'
              ? 'timed_out'
              : 'stopped';
          stopper = step.text;
          error = `${step.text}: ${controller.signal.aborted ? (reason as Error).message : message}${lasting ? ` (${lasting})` : ''}`;
          history.updateStep(id, position, { status, error });
          // Stopped by inlet stopping, an expected end: its message alone, as for an InletError; the
          // Error's stack (at EventTarget.onShutdown …) was logged as if inlet had crashed.
          const fields = aborted && !isInletError(failure) ? { error: message } : errorFields(failure);
          logger.warn(
            { step: step.text, attempt, ...fields },
            status === 'stopped' ? 'workflow step stopped' : 'workflow step failed',
          );
          break;
        }
      }
    }
  } finally {
    clearTimeout(timer);
    options.shutdown.removeEventListener('abort', onShutdown);
    recorded = history.finish(id, status, error);
  }
  if (!recorded) {
    // Marked abandoned while this process was silent (paused, its heartbeats refused): that status
    // stays, and the run is counted once, as abandoned.
    logger.warn({ status }, 'workflow run finished after it was marked abandoned; its history keeps that');
    return undefined;
  }
  logger.info({ status }, 'workflow run finished');
  return status;
}
