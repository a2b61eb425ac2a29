import type { InletConfig } from '../config/index.ts';
import type { RunHistory } from './run-history.ts';
import { loadEachWorkflow } from './workflow-loader.ts';

/** The workflows configured now (inlet.yaml and project/workflows/), which inlet runs start can run. */
export function configuredWorkflowNames(config: InletConfig): string[] {
  try {
    // One that does not load is left out: inlet start and inlet runs start say why.
    return loadEachWorkflow(config).workflows.map((w) => w.name);
  } catch {
    // No folder of workflows to read: inlet start says why; here, the ones in inlet.yaml.
    return config.workflows.map((w) => w.name);
  }
}

/**
 * Every workflow a run filter can name: those configured, those an unset ${VAR} leaves out, and those
 * with runs in the history (a workflow since removed keeps its runs).
 */
export function workflowNames(config: InletConfig, history: RunHistory): string[] {
  return [
    ...new Set([
      ...configuredWorkflowNames(config),
      ...Object.keys(config.workflowsLeftOut),
      ...history.workflowNames(),
    ]),
  ].sort();
}
