import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { type Document, parseDocument, visit } from 'yaml';
import type { z } from 'zod';
import {
  configFileName,
  describeIssue,
  type InletConfig,
  readStepVars,
  unknownTag,
  unknownTagMessage,
  utf8Text,
  type WorkflowConfig,
  workflowSchema,
  yamlErrorLine,
} from '../config/index.ts';
import { InletError, isInletError } from '../errors/index.ts';
import {
  checkSourceSelectors,
  type ModelGraph,
  openProject,
  type Project,
  selectNodes,
  splitSourceSelectors,
} from '../models/index.ts';
import { sourceOfTable } from '../sources/index.ts';

/** A workflow ready to schedule: its time zone resolved, and where it was defined. */
export interface Workflow extends WorkflowConfig {
  timezone: string;
  /** inlet.yaml or the workflows/<name>.yaml file. */
  origin: string;
}

/**
 * A ${NAME} in a workflow file is an error: only inlet.yaml expands references (the configuration is
 * read once, with its environment), and here vars: { region: ${REGION} } became the text "${REGION}".
 */
function refuseReference(
  document: Document,
  text: string,
  path: string,
  /** The configuration file, which does expand references (configFileName). */
  configFile: string,
  shown = (value: string) => value,
): void {
  visit(document, {
    Scalar(_key, node) {
      if (typeof node.value !== 'string') return;
      const value = shown(node.value);
      if (!value.includes('${')) return;
      const line = node.range ? ` at line ${text.slice(0, node.range[0]).split('\n').length}` : '';
      throw new InletError(
        'WORKFLOW_INVALID',
        `${path}${line}: "${value.slice(0, 60)}" holds a \${NAME} reference, which a workflow file does not expand (${configFile} does); write the value, or move the workflow under workflows: in ${configFile}.`,
      );
    },
  });
}

/**
 * For a file YAML cannot read: the reference its parser stopped at, said as refuseReference says
 * one. In a flow map (steps: [{run: ${X}}]) the reference's "{" opened another, and the file was
 * refused with "Unexpected flow-map-start at node end", naming no reference. Each ${…} of a line
 * stands in as a plain word; a file that still cannot be read has another fault, told as it is.
 */
function refuseReferenceInUnreadable(text: string, path: string, configFile: string): void {
  const references: string[] = [];
  const marker = `inlet_ref_${randomBytes(6).toString('hex')}_`;
  const marked = text.replace(/\$\{[^}\n]*\}/g, (reference) => `${marker}${references.push(reference) - 1}_`);
  if (references.length === 0) return;
  const document = parseDocument(marked, { logLevel: 'silent' });
  if (document.errors.length > 0) return;
  const token = new RegExp(`${marker}(\\d+)_`, 'g');
  refuseReference(document, marked, path, configFile, (value) =>
    value.replace(token, (_match, i: string) => references[Number(i)] ?? ''),
  );
}

function parseWorkflowFile(path: string, configFile: string): WorkflowConfig {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    // A folder named like a workflow said "EISDIR: illegal operation on a directory, read".
    if ((error as NodeJS.ErrnoException).code === 'EISDIR')
      throw new InletError(
        'WORKFLOW_INVALID',
        `${path} is a folder, and each file of workflows/ is one workflow; move the folder out of workflows/, or rename it so that its name does not end in .yaml or .yml.`,
      );
    throw new InletError('WORKFLOW_INVALID', `${path} cannot be read: ${(error as Error).message}`);
  }
  let text: string;
  try {
    text = utf8Text(bytes);
  } catch (error) {
    throw new InletError('WORKFLOW_INVALID', `${path} ${(error as Error).message}.`);
  }
  // Errors only: a key that is a list or a map ([a, b]: 1) is named by the validation below, as an
  // unknown key, where yaml printed a Node warning of its own too.
  const document = parseDocument(text, { logLevel: 'error' });
  const error = document.errors[0];
  if (error) {
    refuseReferenceInUnreadable(text, path, configFile);
    throw new InletError('WORKFLOW_INVALID', `${path} is not valid YAML: ${yamlErrorLine(error)}`);
  }
  const tag = unknownTag(document, text);
  if (tag) throw new InletError('WORKFLOW_INVALID', `${path} is not valid YAML: ${unknownTagMessage(tag)}`);
  refuseReference(document, text, path, configFile);
  // A step's vars are read as dbt reads --vars, so that rate: 1.0 renders as 1.0 and flag: yes as True.
  // The file name is the workflow's name unless the file says otherwise.
  const fileName = basename(path).replace(/\.ya?ml$/, '');
  const varsProblem = readStepVars(document.get('steps', true), text);
  if (varsProblem)
    throw new InletError(
      'WORKFLOW_INVALID',
      `${path} is not a valid workflow:\n  workflow "${document.get('name') ?? fileName}", ${varsProblem}`,
    );
  const raw: unknown = document.toJS();
  const named = raw && typeof raw === 'object' && !Array.isArray(raw) && 'name' in raw;
  const withName = raw && typeof raw === 'object' && !Array.isArray(raw) ? { name: fileName, ...raw } : raw;
  const result = workflowSchema.safeParse(withName);
  if (result.success) return result.data;
  const lines = (result.error as z.ZodError).issues.slice(0, 5).map((issue) =>
    // A name nobody wrote in the file: say where it came from and how to change it.
    issue.path.join('.') === 'name' && !named
      ? `name: "${fileName}", the file's name, ${issue.message}; rename the file or give the workflow a name:`
      : describeIssue(issue, withName, '', 'brackets', workflowSchema),
  );
  throw new InletError('WORKFLOW_INVALID', `${path} is not a valid workflow:\n  ${lines.join('\n  ')}`);
}

/**
 * The project and its graph, to check run and test steps against; undefined when the project cannot be
 * read now, since each run reads it afresh and says what is wrong with it.
 */
function openedProject(
  config: InletConfig,
  vars?: Record<string, unknown>,
): { project: Project; graph: ModelGraph } | undefined {
  try {
    return openProject(config, vars);
  } catch (error) {
    if (isInletError(error)) return undefined;
    throw error;
  }
}

/** The project's folder of workflows, a .yaml file each. */
const workflowsDir = (config: Pick<InletConfig, 'project_dir'>) => join(config.project_dir, 'workflows');

/**
 * Where workflows are configured, for a message that says a workflow is no longer there: the
 * configuration file read (configFileName) and the project's folder of workflows.
 */
export function workflowPlaces(config: Pick<InletConfig, 'configPath' | 'project_dir'>): string {
  const dir = `${workflowsDir(config)}/`;
  return config.configPath === undefined
    ? `${dir} (no configuration file was read)`
    : `${configFileName(config)} or ${dir}`;
}

/** A workflow that does not load: the name it goes by (a file's own, for one that cannot be read), where, and why. */
export interface WorkflowProblem {
  name: string;
  origin: string;
  error: InletError;
  /** The unset variable that leaves it out of inlet.yaml's workflows, where that is why. */
  unsetVariable?: string;
}

/** The workflows that load, and the problem of each that does not. */
export interface LoadedWorkflows {
  workflows: Workflow[];
  problems: WorkflowProblem[];
}

/**
 * Every workflow, each checked on its own: those that load, and the problem of each that does not (a
 * file that is not a valid workflow, a step naming no source or model, a name defined twice). What
 * leaves no workflow readable, a file where the folder of workflows goes, is thrown.
 */
export function loadEachWorkflow(config: InletConfig): LoadedWorkflows {
  const found: Workflow[] = config.workflows.map((w) => ({
    ...w,
    timezone: w.timezone ?? config.timezone,
    origin: config.configPath ?? 'inlet.yaml',
  }));
  const problems: WorkflowProblem[] = [];
  const dir = workflowsDir(config);
  // A file by that name stopped inlet start and inlet runs with "ENOTDIR: not a directory, scandir",
  // as an error inlet did not foresee.
  if (existsSync(dir) && !statSync(dir).isDirectory())
    throw new InletError(
      'WORKFLOW_INVALID',
      `${dir} is a file, where inlet looks for the project's folder of workflows (a .yaml file each); move the file out of the way and make workflows a folder (or leave it out).`,
    );
  if (existsSync(dir)) {
    for (const name of readdirSync(dir).sort()) {
      if (!/\.ya?ml$/.test(name) || name.startsWith('.')) continue;
      const path = join(dir, name);
      try {
        const workflow = parseWorkflowFile(path, configFileName(config));
        found.push({ ...workflow, timezone: workflow.timezone ?? config.timezone, origin: path });
      } catch (error) {
        if (!isInletError(error)) throw error;
        // What it is named inside is not known: the file's name is the workflow's unless it says otherwise.
        problems.push({ name: name.replace(/\.ya?ml$/, ''), origin: path, error });
      }
    }
  }
  // A source left out for an unset ${VAR} (inlet runs lists runs without it) is still configured.
  const sources = new Set([...config.sources.map((s) => s.name), ...config.sourcesLeftOut]);
  const opened = openedProject(config);
  // Where each name was defined: the file, and for inlet.yaml's workflows: list the entry.
  const seen = new Map<string, { origin: string; entry: number }>();
  const loaded: Workflow[] = [];
  for (const [entry, workflow] of found.entries()) {
    try {
      const other = seen.get(workflow.name);
      if (other)
        throw new InletError(
          'WORKFLOW_INVALID',
          other.origin === workflow.origin
            ? `Workflow "${workflow.name}" is defined twice in ${workflow.origin}: as workflows[${other.entry}] and workflows[${entry}]. Rename one of them (name:) or remove it.`
            : `Workflow "${workflow.name}" is defined twice: in ${other.origin} and in ${workflow.origin}. Rename one of them (name:, or the file) or remove it.`,
        );
      seen.set(workflow.name, { origin: workflow.origin, entry });
      checkSteps(config, workflow, sources, opened);
      loaded.push(workflow);
    } catch (error) {
      if (!isInletError(error)) throw error;
      problems.push({ name: workflow.name, origin: workflow.origin, error });
    }
  }
  // Neither copy of a name defined twice runs: which one was meant is not known.
  const broken = new Set(problems.map((p) => p.name));
  return { workflows: loaded.filter((w) => !broken.has(w.name)), problems };
}

/**
 * Every workflow: those under workflows: in inlet.yaml and those in the project's workflows/
 * folder. Names must be unique, each sync step must name a configured source, and each run or test
 * step's selectors a model or seed of the project (when it can be read); the first that is not is thrown.
 */
export function loadWorkflows(config: InletConfig): Workflow[] {
  const { workflows, problems } = loadEachWorkflow(config);
  if (problems[0]) throw problems[0].error;
  return workflows;
}

/** Throws for a sync step naming no configured source, or a run or test step naming no model or seed. */
function checkSteps(
  config: InletConfig,
  workflow: Workflow,
  sources: ReadonlySet<string>,
  opened: ReturnType<typeof openedProject>,
): void {
  for (const step of workflow.steps)
    if (step.kind === 'sync' && !sources.has(step.source)) {
      const table = sourceOfTable(sources, step.source);
      const todo = table
        ? `"${step.source}" names a table of source "${table}": a sync step copies every table of a source, so write sync ${table}.`
        : `Add the source under sources: in ${configFileName(config)} (docs/databases.md, docs/csv.md, docs/logs.md), or name one of those in the step.`;
      throw new InletError(
        'WORKFLOW_INVALID',
        `Workflow "${workflow.name}" (${workflow.origin}): "${step.text}" names no configured source; configured: ${[...sources].join(', ') || '(none)'}. ${todo}`,
      );
    } else if (step.kind === 'run' || step.kind === 'test') {
      // A step's own vars may be what lets the project be read (a var() with no default).
      const stepProject = step.vars ? openedProject(config, step.vars) : opened;
      if (!stepProject) continue;
      for (const [selector, excluded] of [
        ...step.selectors.map((each) => [each, false] as const),
        ...step.exclude.map((each) => [each, true] as const),
      ])
        try {
          // dbt's source:crm picks a source's tables to test: inlet test takes it, inlet run does not
          // (though --exclude source:crm, which leaves out nothing run builds, it takes as dbt does);
          // source:crm+ picks the models that read it, in both.
          const split = splitSourceSelectors([selector]);
          if (step.kind === 'test' && split.sources.length > 0)
            checkSourceSelectors(stepProject.project, [selector]);
          if (step.kind === 'run' || split.models.length > 0)
            selectNodes(stepProject.graph, excluded ? [] : [selector], excluded ? [selector] : []);
        } catch (error) {
          if (!isInletError(error)) throw error;
          throw new InletError(
            'WORKFLOW_INVALID',
            `Workflow "${workflow.name}" (${workflow.origin}): "${step.text}" names no model or seed: ${error.message}`,
          );
        }
    }
}
