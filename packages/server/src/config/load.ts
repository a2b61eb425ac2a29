import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { z } from 'zod';
import { InletError } from '../errors/index.ts';
import { createSources, nameUsedTwice, parseSourceOptions } from '../sources/index.ts';
import { isDeviceFile } from './config-file-name.ts';
import { isLink, readConfigFile } from './config-file-read.ts';
import { type Env, parseWithEnv, type UnsetInEntry, unsetVariable } from './env-expansion.ts';
import { describeIssue } from './issue-message.ts';
import { configSchema, type ParsedConfig } from './schema.ts';
import { yamlErrorLine } from './yaml-tags.ts';

/** The validated configuration with paths made absolute and environment-derived secrets resolved. */
export interface InletConfig extends ParsedConfig {
  /** Absolute path of the file it came from, or undefined when running on defaults. */
  configPath: string | undefined;
  /** Admin API token from INLET_API_TOKEN; undefined means one is generated into the data directory. */
  apiToken: string | undefined;
  /** The folder relative paths (data_dir, a source's files) are resolved in: the file's, or the working directory. */
  baseDir: string;
  /**
   * Sources left out of `sources` because a ${VAR} in them is not set and this command does not
   * use them (loadConfig's `sourcesInUse`); kept by name so the catalog's lineage still shows them.
   */
  sourcesLeftOut: string[];
  /** The unset variable that leaves each of sourcesLeftOut out, which messages name. */
  sourcesLeftOutBy: Record<string, string>;
  /**
   * Workflows of inlet.yaml left out of `workflows` because a ${VAR} in them is not set, by name,
   * with that variable: the others run, and starting this one says what to set.
   */
  workflowsLeftOut: Record<string, string>;
}

/**
 * zod's .int() bound, a safe integer: beside a key's own bound it made two lines for one value
 * (server.port: 1e23 was "at most 9007199254740991", then "at most 65535").
 */
function isSafeIntegerBound(issue: z.core.$ZodIssue, issues: z.core.$ZodIssue[]): boolean {
  if (issue.code !== 'too_big' || Number(issue.maximum) !== Number.MAX_SAFE_INTEGER) return false;
  const at = issue.path.join('.');
  return issues.some((other) => other !== issue && other.path.join('.') === at);
}

function describeIssues(issues: z.core.$ZodIssue[], file: string, raw: unknown): string {
  const shown = issues.filter((issue) => !isSafeIntegerBound(issue, issues));
  const lines = shown.slice(0, 5).map((issue) => describeIssue(issue, raw, '', 'brackets', configSchema));
  return `${file} is not valid:\n  ${lines.join('\n  ')}`;
}

/**
 * ~ and ~/… as the home directory, as a shell reads them: taken literally, ~/inlet-data made a
 * folder named ~ beside inlet.yaml. ~name (another user's home) is refused rather than guessed.
 */
function expandHome(path: string, key: string, file: string): string {
  if (path === '~' || path.startsWith('~/')) return join(homedir(), path.slice(1));
  if (path.startsWith('~'))
    throw new InletError(
      'CONFIG_INVALID',
      `${file} is not valid:\n  ${key}: ${path} names another user's home, which inlet does not look up; write the absolute path`,
    );
  return path;
}

/**
 * The file at path or at the nearest of its folders that exists, or undefined when that is a folder.
 * Below a file (project_dir: /etc/passwd/x) stat failed with ENOTDIR, printed bare with no code.
 */
function fileAtOrAbove(path: string): string | undefined {
  for (let at = path; dirname(at) !== at; at = dirname(at)) {
    try {
      const stats = statSync(at, { throwIfNoEntry: false });
      if (stats !== undefined) return stats.isFile() ? at : undefined;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOTDIR') throw error;
    }
  }
  return undefined;
}

/** Validates an already-parsed YAML value; used by loadConfig and by tests. */
export function parseConfig(
  raw: unknown,
  options: {
    file?: string;
    env?: Env;
    baseDir?: string;
    sourcesLeftOut?: string[];
    sourcesLeftOutBy?: Record<string, string>;
    workflowsLeftOut?: Record<string, string>;
  } = {},
): InletConfig {
  const file = options.file ?? 'inlet.yaml';
  const result = configSchema.safeParse(raw ?? {});
  if (!result.success)
    throw new InletError('CONFIG_INVALID', describeIssues(result.error.issues, file, raw ?? {}));
  const config = result.data;
  const keys = new Set<string>();
  const ids = new Set<string>();
  const domains = new Map<string, string>();
  config.sites.forEach((site, i) => {
    if (ids.has(site.id))
      throw new InletError(
        'CONFIG_INVALID',
        `${file} is not valid:\n  sites[${i}].id: "${site.id}" is used twice; site ids must be unique`,
      );
    if (keys.has(site.write_key))
      throw new InletError(
        'CONFIG_INVALID',
        `${file} is not valid:\n  sites[${i}].write_key: used by another site; each site needs its own write key`,
      );
    // A Plausible request names its site by domain: with two sites for one, the last took every event.
    (site.domains ?? []).forEach((domain, j) => {
      const other = domains.get(domain);
      if (other !== undefined && other !== site.id)
        throw new InletError(
          'CONFIG_INVALID',
          `${file} is not valid:\n  sites[${i}].domains[${j}]: "${domain}" is a domain of site "${other}" too; a domain names one site, so give it to one of them`,
        );
      domains.set(domain, site.id);
    });
    ids.add(site.id);
    keys.add(site.write_key);
  });
  // Source options are checked here too, so a bad source fails start-up with the key named.
  createSources(config, file);
  const env = options.env ?? {};
  const baseDir = resolve(options.baseDir ?? process.cwd());
  const projectDir = resolve(baseDir, expandHome(config.project_dir, 'project_dir', file));
  // A file here (the project's dbt_project.yml, say) was read as a folder with nothing in it, and
  // the project's models were left out of every run and of the catalog without a word.
  const inTheWay = fileAtOrAbove(projectDir);
  if (inTheWay !== undefined)
    throw new InletError(
      'CONFIG_INVALID',
      `${file} is not valid:\n  project_dir: ${inTheWay === projectDir ? `${projectDir} is a file` : `${projectDir} cannot be a folder, as ${inTheWay} is a file`}; give the folder that holds models/ (and dbt_project.yml, if there is one)`,
    );
  return {
    ...config,
    data_dir: resolve(baseDir, expandHome(config.data_dir, 'data_dir', file)),
    project_dir: projectDir,
    configPath: options.file ? resolve(options.file) : undefined,
    apiToken: env.INLET_API_TOKEN || undefined,
    baseDir,
    sourcesLeftOut: options.sourcesLeftOut ?? [],
    sourcesLeftOutBy: options.sourcesLeftOutBy ?? {},
    workflowsLeftOut: options.workflowsLeftOut ?? {},
  };
}

/**
 * The folder a config file's relative paths are resolved in: the file's own, so a config in
 * /etc/inlet keeps ./data beside it whatever the working directory; the working directory for a
 * config that is no file in a folder (/dev/null, a named pipe, a shell's <(…) as /dev/fd/63,
 * /dev/stdin), whose folder is no place for data: /dev/data is memory, gone at the next boot.
 */
function baseDirOf(path: string, cwd: string): string {
  if (isDeviceFile(path)) return cwd;
  return statSync(path, { throwIfNoEntry: false })?.isFile() ? dirname(path) : cwd;
}

/**
 * Whether an issue of an entry left out is its unset variables' doing: one at a key that holds one,
 * or around it (the step whose vars: it is in). An unknown key is no value's doing: a misspelt key
 * beside the unset one went unsaid until the variable was set, and inlet then refused to start.
 */
function byUnset(issue: z.core.$ZodIssue, unset: UnsetInEntry[]): boolean {
  if (issue.code === 'unrecognized_keys') return false;
  return unset.some(({ path }) => issue.path.every((key, i) => String(key) === String(path[i])));
}

/**
 * Checks the entries of a list at indexes, those left out, as the schema checks any, but for the
 * issues their unset variables cause; gives them parsed, or undefined when only those were found.
 */
function checkLeftOut(
  raw: unknown,
  list: 'sources' | 'workflows',
  indexes: number[],
  unset: UnsetInEntry[],
  file: string,
): ParsedConfig | undefined {
  const entries = (raw as Record<typeof list, unknown[]>)[list];
  const result = configSchema.safeParse({ [list]: indexes.map((i) => entries[i]) });
  if (result.success) return result.data;
  const issues = result.error.issues
    .map((issue) => ({ ...issue, path: [list, indexes[Number(issue.path[1])] ?? 0, ...issue.path.slice(2)] }))
    .filter((issue) => !byUnset(issue, unset));
  if (issues.length > 0) throw new InletError('CONFIG_INVALID', describeIssues(issues, file, raw));
  return undefined;
}

/**
 * Leaves out of raw.sources the entries with an unset ${VAR} that the command does not use, and
 * returns their names, each with the first such variable; an unset one in a source it uses is the
 * error naming the variable. Each left out is still checked as strictly as the others, its kind's
 * options too, but for the keys that hold the unset variable.
 */
function leaveOutSources(
  raw: unknown,
  unset: UnsetInEntry[],
  sourcesInUse: 'all' | readonly string[],
  file: string,
  env: Env,
): Record<string, string> {
  const inSources = unset.filter(({ list }) => list === 'sources');
  if (inSources.length === 0) return {};
  const sources = (raw as { sources: unknown[] }).sources;
  const names = new Map<number, string>();
  const leftOut: Record<string, string> = {};
  for (const { entry: source, variable } of inSources) {
    const name = (sources[source] as { name?: unknown } | null)?.name;
    // A source whose name itself is unset cannot be told apart from the ones a command uses.
    if (sourcesInUse === 'all' || typeof name !== 'string' || name === '' || sourcesInUse.includes(name))
      throw unsetVariable(variable, file, env);
    names.set(source, name);
    leftOut[name] ??= variable;
  }
  const indexes = [...names.keys()];
  const checked = checkLeftOut(raw, 'sources', indexes, inSources, file);
  for (const [i, entry] of checked?.sources.entries() ?? []) {
    const at = indexes[i] ?? 0;
    const held = inSources.filter(({ entry: source }) => source === at);
    // A type that holds the variable names no kind yet, whose options to check.
    if (held.some(({ path }) => path[2] === 'type')) continue;
    parseSourceOptions(entry, at, file, (issue) =>
      byUnset({ ...issue, path: ['sources', at, ...issue.path] }, held),
    );
  }
  // Left out, it was a second crm beside the one configured, refused only once the variable was set.
  const first = new Map<unknown, number>();
  sources.forEach((entry, i) => {
    const name = (entry as { name?: unknown } | null)?.name;
    const before = first.get(name);
    if (before === undefined) first.set(name, i);
    else if (names.has(i) || names.has(before)) throw nameUsedTwice(String(name), i, file);
  });
  (raw as { sources: unknown[] }).sources = sources.filter((_entry, i) => !names.has(i));
  return leftOut;
}

/**
 * Leaves out of raw.workflows the entries with an unset ${VAR}, and returns their names, each with
 * the first such variable: one in a step's vars: stopped every command. Each is still checked as
 * strictly as the others, but for the keys that hold the unset variable; one whose name itself is
 * unset is the error naming the variable, as it cannot be named.
 */
function leaveOutWorkflows(
  raw: unknown,
  unset: UnsetInEntry[],
  file: string,
  env: Env,
): Record<string, string> {
  const inWorkflows = unset.filter(({ list }) => list === 'workflows');
  if (inWorkflows.length === 0) return {};
  const workflows = (raw as { workflows: unknown[] }).workflows;
  const leftOut = new Map<number, string>();
  for (const { entry, variable } of inWorkflows) {
    const name = (workflows[entry] as { name?: unknown } | null)?.name;
    if (typeof name !== 'string' || name === '') throw unsetVariable(variable, file, env);
    if (!leftOut.has(entry)) leftOut.set(entry, variable);
  }
  checkLeftOut(raw, 'workflows', [...leftOut.keys()], inWorkflows, file);
  (raw as { workflows: unknown[] }).workflows = workflows.filter((_entry, i) => !leftOut.has(i));
  return Object.fromEntries(
    [...leftOut].map(([i, variable]) => [(workflows[i] as { name: string }).name, variable]),
  );
}

/**
 * Reads inlet.yaml (or runs on defaults when the default file is absent), expands ${ENV} and
 * validates it once. An unset ${VAR} is an error, except inside a source not in sourcesInUse
 * (default: all), which is left out: `inlet query` needs no database URL.
 */
export function loadConfig(options: {
  path?: string;
  env: Env;
  cwd?: string;
  sourcesInUse?: 'all' | readonly string[];
  /** project_dir may name a folder that is not there yet: inlet demo makes it. */
  projectMayBeMissing?: boolean;
}): InletConfig {
  const cwd = options.cwd ?? process.cwd();
  const explicit = options.path !== undefined;
  // --config=~/inlet.yaml, which a shell leaves as it is after an =, or ~ in a unit file: a folder
  // named ~ was looked in, as data_dir's ~ once was.
  const given = options.path?.startsWith('~/') ? join(homedir(), options.path.slice(2)) : options.path;
  const path = resolve(cwd, given ?? 'inlet.yaml');
  if (!existsSync(path) && !isLink(path)) {
    // Many tools read standard input for -: inlet reads files, and standard input is /dev/stdin.
    if (options.path === '-')
      throw new InletError(
        'CONFIG_NOT_FOUND',
        '--config - names no file: give the path of a configuration file, such as --config ./inlet.yaml, or --config /dev/stdin to read it from standard input.',
      );
    if (explicit)
      throw new InletError(
        'CONFIG_NOT_FOUND',
        `Config file ${path} does not exist. Create it or drop --config to run on defaults.`,
      );
    return parseConfig({}, { env: options.env, baseDir: cwd });
  }
  const unset: UnsetInEntry[] = [];
  const document = parseWithEnv(readConfigFile(path, options.path), options.env, path, unset);
  const error = document.errors[0];
  if (error) {
    const where = error.linePos ? ` at line ${error.linePos[0].line}` : '';
    throw new InletError('CONFIG_INVALID', `${path} is not valid YAML${where}: ${yamlErrorLine(error)}`);
  }
  let raw: unknown;
  try {
    raw = document.toJS();
  } catch (error) {
    // yaml resolves aliases here, not in parsing: one with no anchor before it (*name), or more than
    // its limit (a "billion laughs" file), threw a bare ReferenceError, printed with no code or file.
    throw new InletError('CONFIG_INVALID', `${path} is not valid YAML: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const sourcesLeftOutBy = leaveOutSources(raw, unset, options.sourcesInUse ?? 'all', path, options.env);
  const sourcesLeftOut = Object.keys(sourcesLeftOutBy);
  const workflowsLeftOut = leaveOutWorkflows(raw, unset, path, options.env);
  const baseDir = baseDirOf(path, cwd);
  const config = parseConfig(raw, {
    file: path,
    env: options.env,
    baseDir,
    sourcesLeftOut,
    sourcesLeftOutBy,
    workflowsLeftOut,
  });
  // Without one the default ./project may well be absent (the built-in marts alone); one the file
  // names is meant to be there, and its models were left out of every run without a word ("Done: 0
  // built" with the built-in marts off).
  const named = (raw as { project_dir?: unknown } | null)?.project_dir !== undefined;
  if (named && !options.projectMayBeMissing && !existsSync(config.project_dir))
    throw new InletError(
      'CONFIG_INVALID',
      `${path} is not valid:\n  project_dir: ${config.project_dir} does not exist; correct the path, create the folder with your models in models/ (mkdir -p ${join(config.project_dir, 'models')}), or remove project_dir to build the built-in marts alone`,
    );
  return { ...config, configPath: path };
}
