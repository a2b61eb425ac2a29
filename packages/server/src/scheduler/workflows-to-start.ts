import type { InletConfig } from '../config/index.ts';
import { InletError } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import { loadEachWorkflow, type Workflow } from './workflow-loader.ts';
import { startableWorkflowNames } from './workflow-names.ts';
import { workflowProblemLine } from './workflow-problems.ts';
import { listWorkflows } from './workflows-left-out.ts';

/**
 * The workflows inlet runs start may run the one named from: that one must load, and is refused with
 * its own problem; another's problem (a bad cron in workflows/hourly.yaml) refused nightly too, where
 * Airflow and Digdag run one workflow beside a broken other. Each such other is named in a warning.
 */
export function workflowsToStart(config: InletConfig, name: string, logger: Logger): Workflow[] {
  const { workflows, problems } = loadEachWorkflow(config);
  const own = problems.find((problem) => problem.name === name);
  if (own) throw own.error;
  // One not found is refused (scheduler.trigger), after these, as one of them may be where it is defined.
  const runs = workflows.some((workflow) => workflow.name === name) ? `; ${name} runs all the same` : '';
  for (const problem of problems)
    logger.warn({ workflow: problem.name, origin: problem.origin }, workflowProblemLine(problem, runs));
  // One left out by an unset variable, or with none that does not load, is refused by scheduler.trigger.
  if (
    problems.length > 0 &&
    !workflows.some((workflow) => workflow.name === name) &&
    config.workflowsLeftOut[name] === undefined
  ) {
    const names = startableWorkflowNames(config, () => 'the warning above says why', {
      names: workflows.map((workflow) => workflow.name),
      problems,
    });
    throw new InletError(
      'NOT_FOUND',
      `No workflow named "${name}"; workflows: ${listWorkflows(config, names)}.`,
    );
  }
  return workflows;
}
