import type { InletConfig } from '../config/index.ts';
import type { Logger } from '../log/index.ts';
import { type LoadedWorkflows, loadEachWorkflow, type WorkflowProblem } from './workflow-loader.ts';
import { leftOutWorkflowProblems } from './workflows-left-out.ts';

/**
 * What is said of a workflow that does not load, on one line: its name, its file (where its error
 * does not name it already), its error, and that it does not run until fixed (or its variable set); `besides` before the
 * error (what runs all the same).
 */
export function workflowProblemLine(problem: WorkflowProblem, besides = ''): string {
  const message = problem.error.message.replace(/\n\s*/g, ' ');
  const where = message.includes(problem.origin) ? '' : ` (${problem.origin})`;
  // One an unset ${VAR} leaves out loads once it is set: "until it is fixed" sent one looking for a typo.
  const until =
    problem.unsetVariable === undefined
      ? 'does not load, and does not run until it is fixed'
      : `does not run until ${problem.unsetVariable} is set`;
  return `workflow "${problem.name}"${where} ${until}${besides}: ${message}`;
}

/**
 * The workflows inlet start schedules: each that loads. One file with a typo (a bad cron) refused the
 * whole start, collector included, so a deploy stopped event collection; as Airflow runs the other
 * DAGs beside one that does not import, each that does not load is left out with a warning naming it.
 */
export function workflowsToSchedule(config: InletConfig, logger: Logger): LoadedWorkflows {
  const loaded = loadEachWorkflow(config);
  for (const problem of loaded.problems)
    logger.warn({ workflow: problem.name, origin: problem.origin }, workflowProblemLine(problem));
  return loaded;
}

/**
 * Each workflow that does not load, for inlet runs to name, those an unset ${VAR} leaves out last;
 * only those where no workflow can be read (inlet start says why).
 */
export function workflowProblems(config: InletConfig): WorkflowProblem[] {
  try {
    return [...loadEachWorkflow(config).problems, ...leftOutWorkflowProblems(config)];
  } catch {
    return leftOutWorkflowProblems(config);
  }
}

/** The workflows as loaded, with those an unset ${VAR} leaves out among the problems (GET /api/workflows). */
export function withLeftOutWorkflows(config: InletConfig, loaded: LoadedWorkflows): LoadedWorkflows {
  return { ...loaded, problems: [...loaded.problems, ...leftOutWorkflowProblems(config)] };
}
