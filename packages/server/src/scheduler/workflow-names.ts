import type { InletConfig } from '../config/index.ts';
import type { RunHistory } from './run-history.ts';
import { loadEachWorkflow, type WorkflowProblem } from './workflow-loader.ts';

/** The names of the workflows that load, and the problems of those that do not. */
const loadEach = (config: InletConfig): { names: string[]; problems: WorkflowProblem[] } => {
  try {
    const { workflows, problems } = loadEachWorkflow(config);
    return { names: workflows.map((w) => w.name), problems };
  } catch {
    // No folder of workflows to read: inlet start says why; here, the ones in inlet.yaml.
    return { names: config.workflows.map((w) => w.name), problems: [] };
  }
};

/**
 * The workflows as inlet runs start names them: those that load, and each that does not saying so
 * and where why is told; one that does not load, left out, had "none is configured: add one under
 * workflows: in inlet.yaml" said of a project whose workflows/ held it with a typo.
 */
export function startableWorkflowNames(
  config: InletConfig,
  why: (name: string) => string,
  { names, problems } = loadEach(config),
): string[] {
  return [...names, ...problems.map((problem) => `${problem.name} (does not load: ${why(problem.name)})`)];
}

/**
 * Every workflow a run filter can name: those configured, those that do not load or an unset ${VAR}
 * leaves out (inlet runs --workflow of one that does not load said none was configured), and those
 * with runs in the history (a workflow since removed keeps its runs).
 */
export function workflowNames(config: InletConfig, history: RunHistory): string[] {
  const { names, problems } = loadEach(config);
  return [
    ...new Set([
      ...names,
      ...problems.map((problem) => problem.name),
      ...Object.keys(config.workflowsLeftOut),
      ...history.workflowNames(),
    ]),
  ].sort();
}
