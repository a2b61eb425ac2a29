import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { InletError } from '../errors/index.ts';
import { createSources } from '../sources/index.ts';
import { isDeviceFile } from './config-file-name.ts';
import { isLink, readConfigFile } from './config-file-read.ts';
import { describeIssues } from './config-issues.ts';
import { type Env, parseWithEnv, type UnsetInEntry } from './env-expansion.ts';
import { leaveOutSources, leaveOutWorkflows } from './left-out-entries.ts';
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
