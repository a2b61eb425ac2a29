import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, lstatSync, openSync, readlinkSync, readSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import {
  type Document,
  isMap,
  isPair,
  isScalar,
  isSeq,
  parseDocument,
  parse as parseYaml,
  visit,
} from 'yaml';
import type { z } from 'zod';
import { InletError } from '../errors/index.ts';
import { createSources } from '../sources/index.ts';
import { isDeviceFile } from './config-file-name.ts';
import { describeIssue } from './issue-message.ts';
import { configSchema, type ParsedConfig } from './schema.ts';
import { utf8Text } from './utf8-text.ts';
import { readStepVars } from './vars-yaml.ts';
import { unknownTag, yamlErrorLine } from './yaml-tags.ts';

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

export type Env = Record<string, string | undefined>;

/** The shortest admin token inlet takes, from INLET_API_TOKEN or data/state/api-token. */
export const MIN_API_TOKEN_LENGTH = 16;

// A default holds no "${": ${A:-${B}} nests a reference, which inlet does not expand.
const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-((?:[^}$]|\$(?!\{))*))?\}/g;

/**
 * A "${" left in a value once its references are marked is none inlet expands (${X with no }, ${},
 * ${X Y}, ${${X}}): it was kept as text, and data_dir: ${DATA_DIR (no }) made a folder of that name.
 */
function strayReference(value: string, offset: number | undefined, text: string, file: string): InletError {
  // The first "${" that is no reference: ${${X}} shows from its start.
  const at = value.replace(REFERENCE, (reference) => '_'.repeat(reference.length)).indexOf('${');
  const line = offset === undefined ? '' : ` at line ${text.slice(0, offset).split('\n').length}`;
  return new InletError(
    'CONFIG_INVALID',
    `${file} is not valid${line}: "${value.slice(at, at + 32)}" is no \${NAME} reference inlet expands; write \${NAME} or \${NAME:-default}, NAME of letters, digits and _ and no reference inside another (a value that holds "\${" as text can come from an environment variable).`,
  );
}

function unsetVariable(name: string, file: string, env: Env): InletError {
  // Empty is taken as unset, as a shell's :- takes it: "not set" sent one who had set it looking elsewhere.
  const state = env[name] === '' ? 'set but empty, which inlet takes as not set' : 'referenced but not set';
  return new InletError(
    'CONFIG_INVALID',
    `${file}: environment variable ${name} is ${state}. ${env[name] === '' ? 'Give it a value' : 'Set it'}, or write \${${name}:-default}.`,
  );
}

/**
 * Replaces ${NAME} (and ${NAME:-default}) references with values from env; a missing one is an
 * error naming it, or, when onUnset is given, is told to it and left empty.
 */
export function expandEnv(text: string, env: Env, file: string, onUnset?: (name: string) => void): string {
  return text.replace(REFERENCE, (_match, name: string, fallback?: string) => {
    const value = env[name];
    if (value !== undefined && value !== '') return value;
    if (fallback !== undefined) return fallback;
    if (!onUnset) throw unsetVariable(name, file, env);
    onUnset(name);
    return '';
  });
}

/** The top-level lists whose entries an unset ${VAR} leaves out, rather than stopping every command. */
type LeavesOut = 'sources' | 'workflows';

/** An unset ${VAR} inside the entry at this index of sources: or workflows:, at the keys of path. */
interface UnsetInEntry {
  list: LeavesOut;
  entry: number;
  variable: string;
  path: (string | number)[];
}

/** The index of the top-level list's entry a node sits in (its ancestors are path), or undefined. */
function entryIndexOf(
  document: Document,
  list: LeavesOut,
  node: unknown,
  path: readonly unknown[],
): number | undefined {
  const entries = document.get(list, true);
  if (!isSeq(entries)) return undefined;
  const at = path.indexOf(entries);
  if (at < 0) return undefined;
  const index = entries.items.indexOf((path[at + 1] ?? node) as (typeof entries.items)[number]);
  return index < 0 ? undefined : index;
}

/** The keys and indexes from the document's root to a node (its ancestors are path), as zod's issues give them. */
function keysTo(node: unknown, path: readonly unknown[]): (string | number)[] {
  return path.flatMap<string | number>((ancestor, i) => {
    if (isPair(ancestor)) return isScalar(ancestor.key) ? [String(ancestor.key.value)] : [];
    if (isSeq(ancestor))
      return [ancestor.items.indexOf((path[i + 1] ?? node) as (typeof ancestor.items)[number])];
    return [];
  });
}

/**
 * Parses the YAML with each ${ENV} reference standing in as a plain word, then expands references
 * in the values only: a value holding ": ", "#" or a newline stays one value, and a reference may
 * sit in a flow map ({ port: ${PORT} }), where "{" would otherwise open one.
 */
function parseWithEnv(text: string, env: Env, file: string, unset: UnsetInEntry[]): Document {
  const references: string[] = [];
  const marker = `inlet_env_${randomBytes(6).toString('hex')}_`;
  const marked = text.replace(REFERENCE, (reference) => `${marker}${references.push(reference) - 1}_`);
  // Errors only: yaml printed a Node warning of its own for a key that is a list or a map ([a, b]: 1),
  // with a hint to run node --trace-warnings, beside the unknown key the validation names.
  const document = parseDocument(marked, { logLevel: 'error' });
  if (document.errors.length > 0) return document;
  // Only the line is said: a ${ENV} before the tag on its line moves the column in the text read.
  const tag = unknownTag(document, marked);
  if (tag)
    throw new InletError(
      'CONFIG_INVALID',
      `${file} is not valid YAML${tag.line === undefined ? '' : ` at line ${tag.line}`}: the tag ${tag.tag} is not one YAML knows; quote the value to pass it as text.`,
    );
  const token = new RegExp(`${marker}(\\d+)_`, 'g');
  const unmarked = (value: string): string =>
    value.replace(token, (_match, i: string) => references[Number(i)] ?? '');
  refuseReferenceInKey(document, marker, unmarked, marked, file);
  // Before ${ENV} is expanded: a step's vars are read again from their source text, which still holds
  // the reference's marker, so a: ${X} became the var "inlet_env_…_0_".
  const workflows = document.get('workflows', true);
  for (const [index, workflow] of isSeq(workflows) ? workflows.items.entries() : []) {
    if (!isMap(workflow)) continue;
    const problem = readStepVars(workflow.get('steps', true), marked);
    if (problem)
      throw new InletError(
        'CONFIG_INVALID',
        `${file} is not valid:\n  workflow "${workflow.get('name')}" (workflows[${index}]), ${problem}`,
      );
  }
  const whole = new RegExp(`^${marker}\\d+_$`);
  visit(document, {
    Scalar(_key, node, path) {
      if (typeof node.value !== 'string') return;
      const text = unmarked(node.value);
      if (node.value.includes('${')) throw strayReference(text, node.range?.[0], marked, file);
      if (!node.value.includes(marker)) return;
      // A source's or a workflow's unset variable is decided on once the whole file is read
      // (loadConfig): commands that do not use that source run without it, and all without it.
      const list = (['sources', 'workflows'] as const).find(
        (name) => entryIndexOf(document, name, node, path) !== undefined,
      );
      const entry = list && entryIndexOf(document, list, node, path);
      const onUnset =
        list === undefined || entry === undefined
          ? undefined
          : (variable: string) => unset.push({ list, entry, variable, path: keysTo(node, path) });
      const expanded = expandEnv(text, env, file, onUnset);
      node.value = node.type === 'PLAIN' && whole.test(node.value) ? typedScalar(expanded) : expanded;
    },
  });
  return document;
}

/**
 * A ${NAME} in a key is an error: keys are names inlet knows or you choose (a step's vars), and one
 * expanded from the environment (server: { ${K}: 8080 }) changed what the file says without showing it,
 * where the documentation says values only.
 */
function refuseReferenceInKey(
  document: Document,
  marker: string,
  unmarked: (value: string) => string,
  marked: string,
  file: string,
): void {
  visit(document, {
    Pair(_key, pair) {
      const key = pair.key;
      if (!isScalar(key) || typeof key.value !== 'string' || !key.value.includes(marker)) return;
      const line = key.range ? ` at line ${marked.slice(0, key.range[0]).split('\n').length}` : '';
      throw new InletError(
        'CONFIG_INVALID',
        `${file} is not valid${line}: the key "${unmarked(key.value)}" holds a \${NAME} reference, which inlet expands in values only; write the key itself (port: \${PORT}, not \${KEY}: 8080).`,
      );
    },
  });
}

/** A number or true/false when the text reads as exactly one (port: ${PORT}), else the text itself. */
function typedScalar(text: string): unknown {
  // Silent: a value that is no YAML ([, a: b: c) or starts as a tag would (!s3cret) is text, and a
  // Node warning would print the variable's value, a password maybe.
  const value: unknown = parseYaml(text, { logLevel: 'silent' });
  const typed = typeof value === 'number' || typeof value === 'boolean';
  return typed && String(value) === text.trim() ? value : text;
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
 * Why INLET_API_TOKEN cannot guard the API, or undefined when it can. Checked where a process starts
 * serving the API: a short token kept in the shell stopped inlet query, runs and ls, which use none.
 */
export function apiTokenProblem(token: string): string | undefined {
  if (token.length < MIN_API_TOKEN_LENGTH)
    return `INLET_API_TOKEN is shorter than ${MIN_API_TOKEN_LENGTH} characters, short enough to guess; set a longer one (openssl rand -hex 24), or unset it and inlet generates one.`;
  const unsendable = unsendableInHeader(token);
  if (unsendable)
    return `INLET_API_TOKEN holds ${unsendable}, which an Authorization: Bearer header cannot carry as it is, so every API request would be refused; set one of visible ASCII characters (openssl rand -hex 24), or unset it and inlet generates one.`;
  return undefined;
}

/**
 * What in a token no client can send as it is in Authorization: Bearer <token>, or undefined: the
 * header ends the token at a space, clients send other letters as UTF-8 that the server reads back as
 * Latin-1, and an env file with Windows line endings leaves a carriage return at its end.
 */
function unsendableInHeader(token: string): string | undefined {
  const bad = /[^\x21-\x7e]/.exec(token)?.[0];
  if (bad === undefined) return undefined;
  if (bad === ' ' || bad === '\t') return 'a space';
  return bad < ' ' || bad === '\x7f' ? 'a control character (a line ending, say)' : 'a letter outside ASCII';
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

/** The file's text; a directory or an unreadable file is an error that says which. */
/**
 * More than any configuration: 10,000 sites (the most the schema takes) with a few origins each take
 * under 2 MB. A device that never ends (--config /dev/zero, /dev/urandom) was read until memory ran out, and
 * inlet hung meanwhile; 64 MiB of YAML (700,000 sites) took 31 s and 2.7 GB to parse before the schema
 * could refuse it.
 */
const MAX_CONFIG_BYTES = 4 * 2 ** 20;

/** The file's bytes, read up to MAX_CONFIG_BYTES and one more, so that a longer one is told apart. */
function readCapped(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    while (total <= MAX_CONFIG_BYTES) {
      const chunk = Buffer.allocUnsafe(Math.min(2 ** 20, MAX_CONFIG_BYTES + 1 - total));
      const read = readSync(fd, chunk, 0, chunk.length, null);
      if (read === 0) break;
      chunks.push(chunk.subarray(0, read));
      total += read;
    }
    return Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}

/** The configuration file's text; given is --config's argument as typed, undefined for the default inlet.yaml. */
function readConfigFile(path: string, given: string | undefined): string {
  let bytes: Buffer;
  try {
    bytes = readCapped(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // existsSync() follows links: a loop of them, or one to nothing, read as no file at all.
    if (code === 'ELOOP')
      throw new InletError(
        'CONFIG_NOT_FOUND',
        `Config file ${path} is a symbolic link that leads round in a loop (ELOOP); point it at the configuration file.`,
      );
    if (code === 'ENOENT' && isLink(path))
      throw new InletError(
        'CONFIG_NOT_FOUND',
        `Config file ${path} is a symbolic link to ${readlinkSync(path)}, which does not exist; point it at the configuration file.`,
      );
    if (code === 'EISDIR')
      throw new InletError(
        'CONFIG_NOT_FOUND',
        `Config file ${path} is a directory; give the path of the file itself, such as ${join(path, 'inlet.yaml')}.`,
      );
    throw new InletError(
      'CONFIG_NOT_FOUND',
      `Config file ${path} cannot be read (${code ?? (error as Error).message}); check its permissions.`,
      { cause: error },
    );
  }
  if (bytes.length > MAX_CONFIG_BYTES)
    throw new InletError(
      'CONFIG_INVALID',
      `${path} holds more than ${MAX_CONFIG_BYTES / 2 ** 20} MiB, more than any configuration; ${given === undefined ? "check that it is inlet's configuration file, or name that file with --config FILE" : `check that --config ${given} names inlet's configuration file`}.`,
    );
  try {
    return utf8Text(bytes);
  } catch (error) {
    throw new InletError('CONFIG_INVALID', `${path} ${(error as Error).message}.`);
  }
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
 * Leaves out of raw.sources the entries with an unset ${VAR} that the command does not use, and
 * returns their names, each with the first such variable; an unset one in a source it uses is the
 * error naming the variable.
 */
function leaveOutSources(
  raw: unknown,
  unset: UnsetInEntry[],
  sourcesInUse: 'all' | readonly string[],
  file: string,
  env: Env,
): Record<string, string> {
  if (!unset.some(({ list }) => list === 'sources')) return {};
  const sources = (raw as { sources: unknown[] }).sources;
  const names = new Map<number, string>();
  const leftOut: Record<string, string> = {};
  for (const { list, entry: source, variable } of unset) {
    if (list !== 'sources') continue;
    const name = (sources[source] as { name?: unknown } | null)?.name;
    // A source whose name itself is unset cannot be told apart from the ones a command uses.
    if (sourcesInUse === 'all' || typeof name !== 'string' || name === '' || sourcesInUse.includes(name))
      throw unsetVariable(variable, file, env);
    names.set(source, name);
    leftOut[name] ??= variable;
  }
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
  // An issue at a key that holds an unset variable, or around it (the step whose vars: it is in), is
  // that variable's doing.
  const byUnset = (issue: z.core.$ZodIssue) =>
    inWorkflows.some(({ path }) => issue.path.every((key, i) => String(key) === String(path[i])));
  const result = configSchema.safeParse({ workflows: [...leftOut.keys()].map((i) => workflows[i]) });
  const issues = result.success
    ? []
    : result.error.issues
        .map((issue) => ({
          ...issue,
          path: ['workflows', [...leftOut.keys()][Number(issue.path[1])] ?? 0, ...issue.path.slice(2)],
        }))
        .filter((issue) => !byUnset(issue));
  if (issues.length > 0) throw new InletError('CONFIG_INVALID', describeIssues(issues, file, raw));
  (raw as { workflows: unknown[] }).workflows = workflows.filter((_entry, i) => !leftOut.has(i));
  return Object.fromEntries(
    [...leftOut].map(([i, variable]) => [(workflows[i] as { name: string }).name, variable]),
  );
}

const isLink = (path: string): boolean =>
  lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink() ?? false;

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
