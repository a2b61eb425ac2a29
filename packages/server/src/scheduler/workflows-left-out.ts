import { configFileName, type InletConfig } from '../config/index.ts';
import { InletError } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import type { WorkflowProblem } from './workflow-loader.ts';

type LeftOutConfig = Pick<InletConfig, 'workflowsLeftOut' | 'configPath'>;

/** What to set for a variable that leaves a workflow out: the variable, or a default for it in the file. */
const setIt = (variable: string, file: string) =>
  `set it (export ${variable}=…) or write \${${variable}:-default} in ${file}`;

/**
 * Why starting the workflow named is refused, when an unset ${VAR} of inlet.yaml leaves it out
 * (loadConfig), or undefined: "No workflow named" sent one looking for a typo in its name. `then`
 * says what to do once it is set.
 */
export function leftOutWorkflowMessage(
  config: LeftOutConfig,
  name: string,
  then = 'run it again',
): string | undefined {
  const variable = config.workflowsLeftOut[name];
  if (variable === undefined) return undefined;
  const file = config.configPath ?? 'inlet.yaml';
  return `Workflow "${name}" is left out: ${file} gives it \${${variable}}, and the environment variable ${variable} is not set; ${setIt(variable, file)}, then ${then}.`;
}

/**
 * Each workflow an unset ${VAR} leaves out, as one that does not load: GET /api/workflows and inlet
 * runs listed it nowhere, and only inlet start's warning at start-up said why it never ran.
 */
export function leftOutWorkflowProblems(config: LeftOutConfig): WorkflowProblem[] {
  const origin = config.configPath ?? 'inlet.yaml';
  return Object.keys(config.workflowsLeftOut).map((name) => ({
    name,
    origin,
    unsetVariable: config.workflowsLeftOut[name],
    error: new InletError(
      'CONFIG_INVALID',
      leftOutWorkflowMessage(config, name, 'restart inlet for it to run on its cron') ?? '',
    ),
  }));
}

/**
 * Warns of each workflow an unset ${VAR} leaves out, by name and variable, where workflows are run;
 * but the one named started, whose refusal says it.
 */
export function warnLeftOutWorkflows(config: LeftOutConfig, logger: Logger, started?: string): void {
  const file = config.configPath ?? 'inlet.yaml';
  for (const [workflow, variable] of Object.entries(config.workflowsLeftOut)) {
    if (workflow === started) continue;
    logger.warn(
      { workflow, variable },
      `workflow "${workflow}" is left out, as the environment variable ${variable} it uses is not set: it does not run on its cron, nor can it be started; ${setIt(variable, file)} for it to run`,
    );
  }
}

/**
 * Workflows as a message lists them, sorted: each one an unset ${VAR} leaves out with that variable,
 * as a list of those that loaded named it nowhere; "(none)" for none.
 */
export function listWorkflows(
  config: Pick<InletConfig, 'workflowsLeftOut'>,
  names: Iterable<string>,
): string {
  const all = new Set([...names, ...Object.keys(config.workflowsLeftOut)]);
  const listed = [...all].sort().map((name) => {
    const variable = config.workflowsLeftOut[name];
    return variable === undefined ? name : `${name} (left out: ${variable} is not set)`;
  });
  return listed.join(', ') || '(none)';
}

/** What a message says when no workflow is configured: "workflows: (none)" said not where to add one. */
export const noWorkflowConfigured = (config: Pick<InletConfig, 'configPath'>): string =>
  `none is configured: add one under workflows: in ${configFileName(config)} (docs/scheduler.md)`;
