import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join, relative, resolve, sep } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { describeIssue, issuePath } from '../config/index.ts';
import { InletError } from '../errors/index.ts';
import { takeConfigCall } from './dbt-config.ts';
import { describeWithDocs, readDocBlocks } from './dbt-docs.ts';
import { type DbtProject, type FolderSettings, readDbtProject } from './dbt-project.ts';
import {
  DOCS_ONLY,
  hiddenDocsWarning,
  isPropertiesFile,
  type PropertiesEntry,
  readProperties,
  unknownKeysMessage,
} from './dbt-properties.ts';
import { type ModelConfig, modelConfigSchema } from './model-config.ts';
import { checkTemplate, templateRefs } from './model-template.ts';
import { type ModelVars, renderVars } from './model-vars.ts';

/** The project that ships with inlet: the built-in product marts. */
export const BUILTIN_PROJECT_DIR = resolve(import.meta.dirname, '../../project');

/** One node of the graph: a SQL model, or a seed (a CSV file loaded as a table). */
export interface ProjectNode {
  name: string;
  kind: 'model' | 'seed';
  /** The model's SQL as written, template tags included; empty for a seed. */
  sql: string;
  /** The .sql or .csv file, absolute. */
  path: string;
  /** The folders between its model (or seed) folder and its file, as dbt's selectors name them (staging). */
  folders: string[];
  config: ModelConfig;
  /** Models and seeds named by ref(), in order of first mention. */
  refs: string[];
  origin: 'builtin' | 'project';
  /** False when no front matter or YAML file configures it (all defaults). */
  configured: boolean;
  /** The file its configuration is in, as errors name it: its .yaml, or the .sql with front matter. */
  configFile?: string;
}

/** A SQL file under tests/ that must return no rows; it may ref() models. */
export interface SingularTest {
  name: string;
  path: string;
  sql: string;
  refs: string[];
}

export interface Project {
  /** The user's project directory, when it exists. */
  dir: string | undefined;
  /** The name: of its dbt_project.yml, when it says one. */
  name?: string;
  nodes: Map<string, ProjectNode>;
  tests: SingularTest[];
  /** The models switched off (enabled: false) and not replaced, by name. */
  disabled: Map<string, SwitchedOff>;
  /** What is wrong but changes nothing built (a dbt_project.yml entry for no model), to say once. */
  warnings: string[];
}

/** A model switched off, as selectors see it: where it was done and the file, and its folders. */
export interface SwitchedOff {
  where: string;
  /** The folders of its file under its model folder, as a folder selector (legacy) names them. */
  folders: string[];
}

/** A model switched off by enabled: false (dbt's way to keep a model's file but not build it). */
interface DisabledModel {
  name: string;
  path: string;
  folders: string[];
  /** Where it was switched off, as the error for a ref() to it says. */
  by: string;
}

/** A configuration's enabled: taken out (the schema has no such key), checked to be true or false. */
function takeEnabled(config: unknown, where: string): { rest: unknown; enabled?: boolean } {
  if (!isMap(config) || !('enabled' in config)) return { rest: config };
  const { enabled, ...rest } = config;
  if (typeof enabled !== 'boolean')
    throw new InletError(
      'MODEL_INVALID',
      `${where}: enabled is ${JSON.stringify(enabled)}; it must be true or false.`,
    );
  return { rest, enabled };
}

/**
 * A configuration without dbt's docs: and persist_docs:, which inlet takes as dbt_project.yml's
 * +docs is taken; docs: { show: false } is told to warnings, since the catalog still lists it.
 */
function takeDocs(config: unknown, where: string, warnings: string[]): unknown {
  if (!isMap(config) || !Object.keys(config).some((key) => DOCS_ONLY.has(key))) return config;
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    if (!DOCS_ONLY.has(key)) rest[key] = value;
    const warning = hiddenDocsWarning(key, value, `${where}: ${key}`);
    if (warning) warnings.push(warning);
  }
  return rest;
}

const NAME = /^[a-z][a-z0-9_]{0,62}$/;
/** Names the lake already uses for raw data; a model by that name would hide it. */
const RESERVED = new Set(['events', 'access_logs', 'app_logs']);
const FRONT_MATTER = /^\s*\/\*\s*---[ \t]*\r?\n([\s\S]*?)\r?\n\s*---\s*\*\//;
/** --- alone on the first line and again on a later one, with a YAML key between. */
const BARE_FRONT_MATTER =
  /^\s*---[ \t]*\r?\n(?:[ \t]*[A-Za-z_][\w-]*[ \t]*:.*\r?\n|[ \t]*(?:#.*)?\r?\n|[ \t]+.*\r?\n)+[ \t]*---[ \t]*(?:\r?\n|$)/;

function filesUnder(dir: string, extension: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || entry.name.startsWith('_')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(path, extension));
    else if (entry.name.endsWith(extension)) out.push(path);
  }
  return out.sort();
}

/**
 * The issue to say: for a union none of whose shapes fit, the issue of the one shape that fit in
 * part (a relationships test without its field), at its whole path; else the issue itself.
 */
function closestIssue(issue: z.core.$ZodIssue): z.core.$ZodIssue {
  // A record's key (a column name under columns:) says "Invalid key in record"; its own issue says why.
  const [keyIssue] = issue.code === 'invalid_key' ? issue.issues : [];
  if (keyIssue) return { ...keyIssue, path: issue.path } as z.core.$ZodIssue;
  if (issue.code === 'invalid_union') {
    const partial = issue.errors.find(
      (branch) => branch.length > 0 && branch.every((inner) => inner.path.length > 0),
    );
    const inner = partial?.[0];
    if (inner) {
      const found = closestIssue(inner);
      return { ...found, path: [...issue.path, ...found.path] } as z.core.$ZodIssue;
    }
  }
  return issue;
}

const isMap = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * dbt 1.8 renamed tests: to data_tests: (for a model and for each column); either is read as
 * tests:, and both in one place is refused rather than one list silently winning.
 */
function dbtTestsName(raw: unknown, file: string): unknown {
  const rename = (entry: Record<string, unknown>, where: string) => {
    if (!('data_tests' in entry)) return entry;
    if ('tests' in entry)
      throw new InletError(
        'MODEL_INVALID',
        `${file} is not a valid model configuration:\n  ${where}: has both tests: and data_tests: (dbt's newer name for tests:); put them in one list`,
      );
    const { data_tests, ...rest } = entry;
    return { ...rest, tests: data_tests };
  };
  if (!isMap(raw)) return raw;
  const top = fromDbtList(rename(raw, '(top level)'), file);
  if (!isMap(top.columns)) return top;
  const columns = Object.fromEntries(
    Object.entries(top.columns).map(([name, column]) => {
      const renamed = isMap(column) ? rename(column, `columns.${name}`) : column;
      return [
        name,
        isMap(renamed) && Array.isArray(renamed.tests)
          ? { ...renamed, tests: renamed.tests.map(withoutArgumentsKey) }
          : renamed,
      ];
    }),
  );
  return { ...top, columns };
}

/**
 * dbt 1.10 puts a generic test's arguments under arguments: ({ accepted_values: { arguments:
 * { values: [...] } } }); they are read as if beside it, as dbt still reads them too.
 */
function withoutArgumentsKey(test: unknown): unknown {
  if (!isMap(test)) return test;
  const [kind, ...others] = Object.keys(test);
  const body = kind === undefined ? undefined : test[kind];
  if (kind === undefined || others.length > 0 || !isMap(body) || !isMap(body.arguments)) return test;
  const { arguments: given, ...rest } = body;
  return { [kind]: { ...given, ...rest } };
}

/** dbt's columns: as a list of { name, description, tests } is the map of name to the rest. */
function fromDbtList(config: Record<string, unknown>, file: string): Record<string, unknown> {
  if (!Array.isArray(config.columns)) return config;
  const invalid = (message: string) =>
    new InletError('MODEL_INVALID', `${file} is not a valid model configuration:\n  ${message}`);
  const columns: Record<string, unknown> = {};
  config.columns.forEach((entry: unknown, i) => {
    if (!isMap(entry) || typeof entry.name !== 'string' || entry.name === '')
      throw invalid(
        `columns.${i}: has no name:; in a list, each column is { name: <column>, description: …, tests: [...] }`,
      );
    const { name, ...rest } = entry;
    if (Object.hasOwn(columns, name))
      throw invalid(`columns.${i}: names ${name} a second time; give each column once`);
    columns[name] = rest;
  });
  return { ...config, columns };
}

function parseModelConfig(
  input: unknown,
  file: string,
  kind: ProjectNode['kind'],
  vars: ModelVars,
): ModelConfig {
  const raw = dbtTestsName(input, file);
  const result = modelConfigSchema.safeParse(raw ?? {});
  if (result.success) {
    // Keys another materialization would use did nothing here, without a word.
    const { materialized, unique_key } = result.data;
    const given = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
    const misplaced =
      kind === 'model' && given.column_types !== undefined
        ? 'column_types: is for seeds; a model casts in its SELECT (x::VARCHAR)'
        : unique_key !== undefined && materialized !== 'incremental'
          ? `unique_key: is for incremental models, and this one is materialized: ${materialized}; set materialized: incremental to merge by it, or remove it`
          : given.lookback_days !== undefined && (materialized !== 'incremental' || unique_key !== undefined)
            ? `lookback_days: is for incremental models by dt, and this one ${materialized === 'incremental' ? 'merges by unique_key' : `is materialized: ${materialized}`}; remove it`
            : undefined;
    if (misplaced)
      throw new InletError('MODEL_INVALID', `${file} is not a valid model configuration:\n  ${misplaced}`);
    // A test's SQL is a template as the model's is, so a typo in a tag fails here, not as text.
    const tests = result.data.tests.map((test, i) => {
      if (!('sql' in test)) return test;
      const sql = renderVars(test.sql, vars, `${file} tests[${i}].sql`);
      checkTemplate(sql, `${file} tests[${i}].sql`);
      return { ...test, sql };
    });
    return { ...result.data, tests };
  }
  throw invalidConfig(result.error as z.ZodError, file, raw ?? {});
}

/** How zod's own messages start ("Invalid input: expected string, received undefined"). */
const ZOD_WORDING = /^(Invalid|Too (small|big))\b/;

/**
 * The error for a configuration the schema refused: its first issues, each with its path, in the
 * words inlet.yaml's errors use ("is required; add field: with text", not zod's "Invalid input").
 * raw is the configuration as checked.
 */
function invalidConfig(error: z.ZodError, file: string, raw: unknown): InletError {
  const lines = error.issues.slice(0, 5).map((union) => {
    const issue = closestIssue(union);
    const where = issuePath(issue.path, '', 'dots');
    // An unknown key is told what dbt meant by it, which inlet.yaml's wording cannot know.
    if (issue.code === 'unrecognized_keys') return `${where}: ${unknownKeysMessage(issue.message)}`;
    // The schema's own words (materialized: ephemeral says what to write instead) stay.
    if (!ZOD_WORDING.test(issue.message)) return `${where}: ${issue.message}`;
    return describeIssue(issue, raw, '', 'dots');
  });
  return new InletError(
    'MODEL_INVALID',
    `${file} is not a valid model configuration:\n  ${lines.join('\n  ')}`,
  );
}

function readYaml(path: string, shown: string): unknown {
  try {
    return parseYaml(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new InletError(
      'MODEL_INVALID',
      `${shown} is not valid YAML: ${(error as Error).message.split('\n')[0]}`,
    );
  }
}

/**
 * The configuration beside a file: <name>.yaml or <name>.yml, if present, and how to name that
 * file. A dbt properties file of that name is not one: readProperties reads it.
 */
function siblingYaml(path: string, shown: string): { raw: unknown; shown: string } | undefined {
  const stem = path.replace(/\.(sql|csv)$/, '');
  for (const extension of ['.yaml', '.yml'])
    if (existsSync(stem + extension)) {
      const file = shown.replace(/\.(sql|csv)$/, extension);
      const raw = readYaml(stem + extension, file);
      if (!isPropertiesFile(raw)) return { raw, shown: file };
    }
  return undefined;
}

/** Refuses a model's or a seed's name (from its file's) that cannot be a view of the lake. */
function checkName(name: string, shown: string, kind: 'model' | 'seed' = 'model'): void {
  if (name.length > 63 && /^[a-z][a-z0-9_]*$/.test(name))
    throw new InletError(
      'MODEL_INVALID',
      `${shown}: "${name}" is ${name.length} characters long; a ${kind} name has at most 63.`,
    );
  if (!NAME.test(name))
    throw new InletError(
      'MODEL_INVALID',
      `${shown}: "${name}" is not a ${kind} name; use lower-case letters, digits and _, starting with a letter.`,
    );
  if (RESERVED.has(name))
    throw new InletError(
      'MODEL_INVALID',
      `${shown}: "${name}" is the name of a raw lake table; rename the ${kind === 'seed' ? 'seed (its file)' : 'model'}.`,
    );
}

/**
 * The folder's +unique_key and +lookback_days added to a model's configuration where the model
 * would take them itself: an incremental model that gives no unique_key takes the folder's (one
 * that gives its own lookback_days is by dt, so takes none), and one by dt takes its lookback_days.
 * A table or view under such a folder takes neither, as dbt passes them over for it.
 */
function withFolderIncremental(raw: unknown, folder: FolderSettings, dbt: DbtProject): unknown {
  if (folder.unique_key === undefined && folder.lookback_days === undefined) return raw;
  const own = isMap(raw) ? raw : {};
  if (own.materialized !== 'incremental') return raw;
  const merged = { ...own };
  if (folder.unique_key !== undefined && !('unique_key' in own) && !('lookback_days' in own)) {
    merged.unique_key = folder.unique_key.value;
    dbt.applied(folder.unique_key.where);
  }
  if (folder.lookback_days !== undefined && !('lookback_days' in own) && !('unique_key' in merged)) {
    merged.lookback_days = folder.lookback_days.value;
    dbt.applied(folder.lookback_days.where);
  }
  return merged;
}

/** The files of each kind under each of the folders given for it (dbt's model-paths: and the like). */
const filesIn = (dirs: string[], extension: string) => dirs.flatMap((dir) => filesUnder(dir, extension));

/** The folders from whichever of dirs holds the file down to it. */
function foldersOf(path: string, dirs: string[]): string[] {
  const root = dirs.find((dir) => !relative(dir, path).startsWith('..'));
  return root === undefined ? [] : relative(root, path).split(sep).slice(0, -1);
}

function readDir(
  root: string,
  origin: ProjectNode['origin'],
  dbt: DbtProject,
  vars: ModelVars,
): { nodes: ProjectNode[]; tests: SingularTest[]; disabled: DisabledModel[]; warnings: string[] } {
  const { paths } = dbt;
  const docs = readDocBlocks(paths.docs);
  const nodes: ProjectNode[] = [];
  const disabled: DisabledModel[] = [];
  const warnings = [...dbt.warnings];
  const shownPath = (path: string) => (origin === 'builtin' ? `(built-in) ${relative(root, path)}` : path);
  // dbt's snapshots/ would never run here, and whoever wrote them expects a history they do not get.
  const [snapshot] = filesIn(paths.snapshots, '.sql');
  if (snapshot)
    throw new InletError(
      'MODEL_INVALID',
      `${shownPath(snapshot)}: inlet has no snapshots, so it would never run. To keep a copy a day, make a model incremental by unique_key: [snapshot_dt, id] selecting current_date AS snapshot_dt, * FROM the table; then remove the snapshots folder.`,
    );
  const properties = readProperties([...paths.models, ...paths.seeds], shownPath);
  /** A node's entry in a properties file, refused when its own file configures it too. */
  const entryFor = (
    kind: 'models' | 'seeds',
    name: string,
    shown: string,
    own: boolean,
  ): PropertiesEntry | undefined => {
    const entry = properties[kind].get(name);
    properties[kind].delete(name);
    if (entry && own)
      throw new InletError(
        'MODEL_INVALID',
        `${shown} is configured twice, in its own file and in ${entry.shown}; keep one of them.`,
      );
    return entry;
  };
  for (const path of filesIn(paths.models, '.sql')) {
    const shown = shownPath(path);
    const name = basename(path, '.sql');
    checkName(name, shown);
    const text = readFileSync(path, 'utf8');
    const front = FRONT_MATTER.exec(text);
    // Markdown-style front matter (--- lines) is a SQL comment and then YAML as SQL: DuckDB would
    // answer "syntax error at or near materialized", which says nothing about what to write instead.
    if (!front && BARE_FRONT_MATTER.test(text))
      throw new InletError(
        'MODEL_INVALID',
        `${shown}: front matter between --- lines is read as SQL; put it in a comment that starts with /*--- and ends with ---*/ (docs/models.md).`,
      );
    const sibling = siblingYaml(path, shown);
    if (front && sibling?.raw !== undefined)
      throw new InletError(
        'MODEL_INVALID',
        `${shown} is configured twice, in its front matter and in ${name}.yaml; keep one of them.`,
      );
    const entry = entryFor('models', name, shown, front !== null || sibling?.raw !== undefined);
    let raw = entry?.raw ?? sibling?.raw;
    if (front) {
      try {
        raw = parseYaml(front[1] ?? '');
      } catch (error) {
        throw new InletError(
          'MODEL_INVALID',
          `${shown}: the front matter is not valid YAML: ${(error as Error).message.split('\n')[0]}`,
        );
      }
    }
    // dbt's {{ config(…) }} adds to what its YAML says (as dbt reads a model's properties file too).
    // The front matter's line breaks stay, so an error's line number is the file's.
    const body = front ? front[0].replace(/[^\n]/g, '') + text.slice(front[0].length) : text;
    const taken = takeConfigCall(body, shown, vars);
    const configFile = entry?.shown ?? sibling?.shown ?? shown;
    // enabled: is read here, not by the schema: a model switched off is not a node at all.
    const own = takeEnabled(takeDocs(raw, configFile, warnings), configFile);
    raw = own.rest;
    const inCall = takeEnabled(
      takeDocs(taken.config, `${shown}'s config()`, warnings),
      `${shown}'s config()`,
    );
    const called = { sql: taken.sql, config: inCall.rest as Record<string, unknown> | undefined };
    const folder = dbt.folderConfigFor(path);
    if (own.enabled !== undefined && inCall.enabled !== undefined)
      throw new InletError(
        'MODEL_INVALID',
        `${shown} gives enabled in its config() and in ${configFile === shown ? 'its front matter' : configFile}; keep one of them.`,
      );
    const enabled = inCall.enabled ?? own.enabled ?? folder.enabled?.value ?? true;
    if (!enabled) {
      // A model switched off is not read further, so whether it would take these is not known.
      for (const setting of [folder.unique_key, folder.lookback_days])
        if (setting) dbt.applied(setting.where);
      disabled.push({
        name,
        path: shown,
        folders: foldersOf(path, paths.models),
        by:
          inCall.enabled === false
            ? `enabled=false in its config()`
            : own.enabled === false
              ? `enabled: false in ${configFile}`
              : `${folder.enabled?.where}: false in ${dbt.shown}`,
      });
      continue;
    }
    const sql = renderVars(called.sql, vars, shown);
    if (called.config) {
      // Checked on its own first, so what is wrong in it names the .sql, not the YAML it joins.
      const alone = modelConfigSchema.safeParse(called.config);
      if (!alone.success) throw invalidConfig(alone.error, `${shown}'s config()`, called.config);
      const other = isMap(raw) ? raw : {};
      const twice = Object.keys(called.config).find((key) => key in other);
      if (twice)
        throw new InletError(
          'MODEL_INVALID',
          `${shown} gives ${twice} in its config() and in ${entry?.shown ?? sibling?.shown ?? 'its front matter'}; keep one of them.`,
        );
      raw = { ...other, ...called.config };
    }
    const configured = raw !== undefined;
    // dbt_project.yml's +materialized for the model's folder, unless the model says its own.
    const byFolder = folder.materialized;
    if (byFolder && !(isMap(raw) && 'materialized' in raw))
      raw = { ...(isMap(raw) ? raw : {}), materialized: byFolder };
    raw = withFolderIncremental(raw, folder, dbt);
    checkTemplate(sql, shown);
    nodes.push({
      name,
      kind: 'model',
      sql,
      path,
      folders: foldersOf(path, paths.models),
      // The file that holds the configuration is where to look for what is wrong with it.
      config: describeWithDocs(
        parseModelConfig(raw, entry?.shown ?? sibling?.shown ?? shown, 'model', vars),
        docs,
        entry?.shown ?? sibling?.shown ?? shown,
      ),
      refs: templateRefs(sql),
      origin,
      configured,
      configFile: entry?.shown ?? sibling?.shown ?? shown,
    });
  }
  // dbt only warns of these ("Configuration paths exist … which do not apply to any resources"), and
  // ported projects often keep dbt init's example: entry: refusing them would stop a run that is fine.
  const unused = dbt.unusedFolders();
  if (unused.length > 0)
    warnings.push(
      `${dbt.shown}: ${unused.join(', ')} ${unused.length === 1 ? 'configures' : 'configure'} no model: no folder or model by that name under ${paths.models.join(', ')}; correct the name, or remove it.`,
    );
  const unapplied = dbt.unappliedSettings();
  if (unapplied.length > 0)
    warnings.push(
      `${dbt.shown}: ${unapplied.join(', ')} ${unapplied.length === 1 ? 'configures' : 'configure'} no model: every model under ${unapplied.length === 1 ? 'it' : 'them'} is a table or a view, or gives its own unique_key or lookback_days (one by unique_key takes no lookback_days); remove ${unapplied.length === 1 ? 'it' : 'them'}, or make the models incremental.`,
    );
  for (const path of filesIn(paths.seeds, '.csv')) {
    const shown = shownPath(path);
    const name = basename(path, '.csv');
    checkName(name, shown, 'seed');
    const sibling = siblingYaml(path, shown);
    const entry = entryFor('seeds', name, shown, sibling?.raw !== undefined);
    const raw = entry?.raw ?? sibling?.raw;
    const configFile = entry?.shown ?? sibling?.shown;
    // dbt's enabled: false switches a seed off as it does a model: not loaded, and a ref() to it fails.
    const own = takeEnabled(takeDocs(raw, configFile ?? shown, warnings), configFile ?? shown);
    if (own.enabled === false) {
      disabled.push({
        name,
        path: shown,
        folders: foldersOf(path, paths.seeds),
        by: `enabled: false in ${configFile}`,
      });
      continue;
    }
    const config = describeWithDocs(
      parseModelConfig(own.rest, configFile ?? shown, 'seed', vars),
      docs,
      configFile ?? shown,
    );
    nodes.push({
      name,
      kind: 'seed',
      sql: '',
      path,
      folders: foldersOf(path, paths.seeds),
      config: { ...config, materialized: 'table' },
      refs: [],
      origin,
      configured: raw !== undefined,
      ...(configFile ? { configFile } : {}),
    });
  }
  for (const [kind, entries] of Object.entries(properties))
    for (const entry of entries.values())
      throw new InletError(
        'MODEL_INVALID',
        `${entry.shown}: there is no such ${kind === 'models' ? 'model (no .sql file under models/ by that name)' : 'seed (no .csv file under seeds/ by that name)'}; correct the name, or remove the entry.`,
      );
  const tests = filesIn(paths.tests, '.sql').map((path) => {
    const sql = renderVars(readFileSync(path, 'utf8'), vars, shownPath(path));
    // dbt's singular tests often start with {{ config(severity='warn') }}; the hint for a model's
    // config() (front matter, a .yaml) would send the user to configure a test that takes none.
    const config = /\{\{-?\s*config\s*\([\s\S]*?\)\s*-?\}\}/.exec(sql);
    if (config)
      throw new InletError(
        'MODEL_INVALID',
        `${shownPath(path)} line ${sql.slice(0, config.index).split('\n').length}: ${config[0]} configures a dbt test, and a test under tests/ takes no configuration: any row it returns fails it (inlet has no severity: warn). Remove the config() call.`,
      );
    checkTemplate(sql, shownPath(path));
    const self = /\{\{\s*this\s*\}\}/.exec(sql);
    if (self)
      throw new InletError(
        'MODEL_INVALID',
        `${shownPath(path)} line ${sql.slice(0, self.index).split('\n').length}: {{ this }} is a model's own table, and a file under tests/ belongs to no model; name the model with {{ ref('model') }}.`,
      );
    return { name: basename(path, '.sql'), path, sql, refs: templateRefs(sql) };
  });
  return { nodes, tests, disabled, warnings };
}

/** Something that reads models by name: a model, one of its data tests, or a test under tests/. */
interface ReferenceReader {
  name: string;
  path: string;
  refs: string[];
  /** What to do instead of enabling the model read. */
  instead: string;
  /** How it names a model, when not by ref() (a relationships test's to:). */
  mention?: (ref: string) => string;
}

/**
 * A model's data tests that read other models: each relationships test (its to:) and each sql:
 * test (its ref()s). A test of a model switched off would read a table left from an earlier run.
 */
function dataTestReaders(node: ProjectNode): ReferenceReader[] {
  const path = node.configFile ?? node.path;
  const relationships = Object.entries(node.config.columns).flatMap(([column, entry]) =>
    typeof entry === 'string'
      ? []
      : entry.tests.flatMap((test) =>
          typeof test === 'object' && 'relationships' in test
            ? [
                {
                  name: `${node.name}'s relationships test on ${column}`,
                  path,
                  refs: [test.relationships.to],
                  instead: 'remove the test',
                  mention: (ref: string) => `to: ${ref}`,
                },
              ]
            : [],
        ),
  );
  const sqlTests = node.config.tests.flatMap((test, i) =>
    'sql' in test
      ? [
          {
            name: `${node.name}'s test ${test.name ?? `tests[${i}]`}`,
            path,
            refs: templateRefs(test.sql),
            instead: 'remove the test',
          },
        ]
      : [],
  );
  return [...relationships, ...sqlTests];
}

/**
 * A ref() to a model that is switched off fails, naming both, as dbt's does: building the one
 * without the other would fail later at a table that is not there, or read one left from before.
 */
function checkNoRefToDisabled(
  nodes: Map<string, ProjectNode>,
  tests: SingularTest[],
  disabled: Map<string, DisabledModel>,
): void {
  const readers: ReferenceReader[] = [
    ...[...nodes.values()].flatMap((node) => [
      { name: node.name, path: node.path, refs: node.refs, instead: `disable ${node.name} too` },
      ...dataTestReaders(node),
    ]),
    // A test under tests/ takes no configuration, so it cannot be switched off with the model.
    ...tests.map((test) => ({
      name: `the test ${test.name}`,
      path: test.path,
      refs: test.refs,
      instead: 'remove the test',
    })),
  ];
  const missing: string[] = [];
  for (const reader of readers)
    for (const ref of reader.refs) {
      const off = nodes.has(ref) ? undefined : disabled.get(ref);
      if (off)
        missing.push(
          `${reader.name} (${reader.path}) refers to ${reader.mention?.(ref) ?? `ref('${ref}')`}, which is disabled (${off.by}, for ${off.path}); enable ${ref}, or ${reader.instead}`,
        );
    }
  if (missing.length > 0)
    throw new InletError('MODEL_REF_MISSING', `${missing.join('\n')}.`, { details: { missing } });
}

/**
 * Reads the project: the built-in marts (unless turned off) and then the user's project, whose
 * models replace built-in ones of the same name. Two files defining one name is an error. vars
 * (inlet run --vars) win over those of the project's dbt_project.yml.
 */
export function loadProject(options: {
  projectDir: string;
  builtin: boolean;
  vars?: Record<string, unknown>;
}): Project {
  const nodes = new Map<string, ProjectNode>();
  const tests: SingularTest[] = [];
  const disabled = new Map<string, DisabledModel>();
  const warnings: string[] = [];
  const add = (found: ReturnType<typeof readDir>) => {
    warnings.push(...found.warnings);
    // A project's model switched off takes the built-in of its name with it, as if neither were there.
    for (const off of found.disabled) {
      disabled.set(off.name, off);
      if (nodes.get(off.name)?.origin === 'builtin') nodes.delete(off.name);
    }
    const seen = new Map<string, string>();
    for (const node of found.nodes) {
      const other = seen.get(node.name);
      if (other)
        throw new InletError(
          'MODEL_INVALID',
          `Two files define "${node.name}": ${other} and ${node.path}; rename one.`,
        );
      seen.set(node.name, node.path);
      // A project's own CSV for a built-in seed (features.csv) keeps the built-in descriptions and tests.
      const builtin = nodes.get(node.name);
      const inherit = node.kind === 'seed' && !node.configured && builtin?.kind === 'seed';
      nodes.set(node.name, inherit ? { ...node, config: builtin.config } : node);
    }
    tests.push(...found.tests);
  };
  const dir = existsSync(options.projectDir) ? options.projectDir : undefined;
  const dbt = dir ? readDbtProject(dir) : undefined;
  const vars: ModelVars = {
    values: { ...dbt?.vars, ...options.vars },
    whereToSet: dbt?.shown ?? join(options.projectDir, 'dbt_project.yml'),
  };
  if (options.builtin)
    add(readDir(BUILTIN_PROJECT_DIR, 'builtin', readDbtProject(BUILTIN_PROJECT_DIR), vars));
  if (dir && dbt) add(readDir(dir, 'project', dbt, vars));
  checkNoRefToDisabled(nodes, tests, disabled);
  const off = [...disabled.values()].filter((model) => !nodes.has(model.name));
  return {
    dir,
    ...(dbt?.name === undefined ? {} : { name: dbt.name }),
    nodes,
    tests,
    disabled: new Map(
      off.map((model) => [model.name, { where: `${model.by}, for ${model.path}`, folders: model.folders }]),
    ),
    warnings,
  };
}
