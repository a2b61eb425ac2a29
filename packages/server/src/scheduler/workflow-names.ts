import type { InletConfig } from '../config/index.ts';
import type { RunHistory } from './run-history.ts';
import { loadWorkflows } from './workflow-loader.ts';

/**
 * Every workflow a run filter can name: those configured (inlet.yaml and project/workflows/) and
 * those with runs in the history (a workflow since removed keeps its runs).
 */
export function workflowNames(config: InletConfig, history: RunHistory): string[] {
  let configured: string[];
  try {
    configured = loadWorkflows(config).map((w) => w.name);
  } catch {
    // A workflow file that does not load: inlet start says why; here, the ones in inlet.yaml.
    configured = config.workflows.map((w) => w.name);
  }
  return [...new Set([...configured, ...history.workflowNames()])].sort();
}
