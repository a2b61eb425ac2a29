import { existsSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { yamlErrorLine } from '../config/index.ts';
import { InletError } from '../errors/index.ts';
import { DOCS_ONLY, dbtKeyHint, hiddenDocsWarning } from './dbt-properties.ts';
import { modelConfigSchema } from './model-config.ts';
import { parseVarsYaml } from './model-vars.ts';
import { readProjectText } from './project-text.ts';

// A dbt project's dbt_project.yml, for who ports one: the keys inlet can honour are read (vars, the
// folders, +materialized, +enabled, +unique_key and +lookback_days by folder), those that only
// matter to dbt itself are passed over, and those that would change what gets built are refused by
// name, since a project built without them would differ silently.

/** What inlet takes from dbt_project.yml: the project's variables and where its files are. */
export interface DbtProject {
  vars: Record<string, unknown>;
  /** The project's name:, which a selector may start with as dbt's do (shop.staging). */
  name: string | undefined;
  /** Folders, absolute: model-paths, seed-paths, test-paths and snapshot-paths, as dbt names them. */
  paths: ProjectPaths;
  /** The file, as errors name it; undefined when the project has none. */
  shown: string | undefined;
  /** What models: gives the model at this path (by its folders or its name): the deepest entry's of each. */
  folderConfigFor(modelPath: string): FolderSettings;
  /** The entries of models: that no model asked materializedFor about passed through: typos, or folders gone. */
  unusedFolders(): string[];
  /** Records that a model took this +unique_key or +lookback_days (as FolderSettings name it). */
  applied(where: string): void;
  /** The +unique_key and +lookback_days of folders with models that no model took: they do nothing. */
  unappliedSettings(): string[];
  /** What configures nothing whatever the models are (settings under another project's name), for a warning. */
  warnings: string[];
}

type Materialized = 'view' | 'table' | 'incremental';

/** The settings of models: that inlet honours, for one model. */
export interface FolderSettings {
  materialized?: Materialized;
  /** dbt's +enabled: false switches a folder's models off; where names the entry, for errors. */
  enabled?: { value: boolean; where: string };
  /** dbt's +unique_key: the key of the incremental models under it that give none of their own. */
  unique_key?: { value: string | string[]; where: string };
  /** The lookback_days of the incremental models by dt under it that give none of their own. */
  lookback_days?: { value: number; where: string };
}
const MATERIALIZED = new Set(['view', 'table', 'incremental']);

export interface ProjectPaths {
  models: string[];
  seeds: string[];
  tests: string[];
  snapshots: string[];
  /** Where .md files with {% docs %} blocks are: docs-paths, else the model and seed folders. */
  docs: string[];
}

const PATH_KEYS = {
  'model-paths': 'models',
  'seed-paths': 'seeds',
  'test-paths': 'tests',
  'snapshot-paths': 'snapshots',
} as const satisfies Record<string, keyof ProjectPaths>;

/** Keys about dbt itself (its profile, its target folder, its packages): nothing inlet builds depends on them. */
const DBT_ONLY = new Set([
  'name',
  'version',
  'config-version',
  'profile',
  'require-dbt-version',
  'analysis-paths',
  'macro-paths',
  'asset-paths',
  'target-path',
  'log-path',
  'packages-install-path',
  'clean-targets',
  'query-comment',
  'flags',
  'dbt-cloud',
  'restrict-access',
]);

/** Keys that configure what dbt builds, and what to do instead in inlet. */
const NOT_HONOURED: Record<string, string> = {
  seeds:
    'configures seeds by folder, which inlet does not read; give each seed its configuration in a .yaml beside its .csv or a properties file, then remove seeds: here',
  tests:
    "configures tests by folder, which inlet does not read; set each test's options where it is declared, then remove it here",
  data_tests:
    "configures tests by folder, which inlet does not read; set each test's options where it is declared, then remove it here",
  snapshots: 'inlet has no snapshots (docs/models.md says how to keep a copy a day); remove it here',
  sources: "inlet has no sources to declare: a source's table is read by its name; remove it here",
  'on-run-start': 'inlet runs no hooks; make the work a model, or run it before inlet run',
  'on-run-end': 'inlet runs no hooks; make the work a model, or a test under tests/',
  dispatch: 'inlet has no macros or packages to dispatch to; remove it here',
  quoting: 'inlet quotes names itself (DuckDB identifiers are case-insensitive); remove it here',
};

/** A map as YAML reads one: not a list, nor a value of its own class (a VarFloat, a VarDate). */
const isMap = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype;

/** Settings under models: that inlet has no equivalent for, and what to do instead. */
const FOLDER_INSTEAD: Record<string, string> = {
  tags: 'inlet has no tags: a selector names a folder instead (inlet run staging, or marts.finance)',
  schema: 'inlet publishes every model by its name in one schema; name the file for what it should be called',
  alias: 'inlet publishes every model by its name in one schema; name the file for what it should be called',
  database:
    'inlet publishes every model by its name in one schema; name the file for what it should be called',
};

/** A folder's (or a model's) entry of models:, its settings and what lies under it. */
interface FolderConfig extends FolderSettings {
  under: Map<string, FolderConfig>;
  /** How errors name it: models.shop.staging. */
  where: string;
  /** Set once a model lies in it. */
  used?: boolean;
}

/** The settings of models: that take a model's own key's values, checked as a model's own would be. */
const MODEL_KEYS = {
  unique_key: { schema: modelConfigSchema.shape.unique_key, expected: 'a column name or a list of them' },
  lookback_days: {
    schema: modelConfigSchema.shape.lookback_days,
    expected: 'a whole number of days from 0 to 366',
  },
} as const;

/**
 * models: as the tree of folders (and model names) it configures. +materialized, +enabled,
 * +unique_key and +lookback_days are read and +docs and +persist_docs passed over (+docs: { show: false }
 * with a warning, as a model's own docs: is); any other
 * setting fails by name, as it would
 * otherwise do nothing without a word.
 */
function readFolders(block: unknown, where: string, shown: string, warnings: string[]): FolderConfig {
  const folder: FolderConfig = { under: new Map(), where };
  if (block === null || block === undefined) return folder;
  if (!isMap(block))
    throw new InletError('MODEL_INVALID', `${shown}: ${where} must be a map of folders and +settings.`);
  for (const [key, value] of Object.entries(block)) {
    if (key === '+materialized' || key === 'materialized') {
      if (typeof value !== 'string' || !MATERIALIZED.has(value))
        throw new InletError(
          'MODEL_INVALID',
          `${shown}: ${where}.${key} is ${JSON.stringify(value)}; inlet builds view, table or incremental${value === 'ephemeral' ? ' (for ephemeral, use view: nothing is stored)' : ''}.`,
        );
      folder.materialized = value as Materialized;
    } else if (key === '+enabled' || key === 'enabled') {
      if (typeof value !== 'boolean')
        throw new InletError(
          'MODEL_INVALID',
          `${shown}: ${where}.${key} is ${JSON.stringify(value)}; it must be true or false.`,
        );
      folder.enabled = { value, where: `${where}.${key}` };
    } else if (key.replace(/^\+/, '') in MODEL_KEYS) {
      const name = key.replace(/^\+/, '') as keyof typeof MODEL_KEYS;
      const parsed = MODEL_KEYS[name].schema.safeParse(value);
      if (!parsed.success || parsed.data === undefined)
        throw new InletError(
          'MODEL_INVALID',
          `${shown}: ${where}.${key} is ${JSON.stringify(value)}; it must be ${MODEL_KEYS[name].expected}.`,
        );
      if (name === 'unique_key')
        folder.unique_key = { value: parsed.data as string | string[], where: `${where}.${key}` };
      else folder.lookback_days = { value: parsed.data as number, where: `${where}.${key}` };
    } else if (DOCS_ONLY.has(key.replace(/^\+/, ''))) {
      const warning = hiddenDocsWarning(key.replace(/^\+/, ''), value, `${shown}: ${where}.${key}`);
      if (warning) warnings.push(warning);
    } else if (key.startsWith('+') || !isMap(value)) {
      // A key a model's own configuration refuses too gets what to do instead, not "give it in each model's".
      const instead = FOLDER_INSTEAD[key.replace(/^\+/, '')] ?? dbtKeyHint(key.replace(/^\+/, ''));
      throw new InletError(
        'MODEL_INVALID',
        `${shown}: ${where}.${key} is a setting inlet does not read from dbt_project.yml (only +materialized, +enabled, +unique_key and +lookback_days, by folder); ${instead ? `${instead}; then remove it` : "give it in each model's configuration (front matter, its .yaml, a properties file or {{ config(...) }}), or remove it"}.`,
      );
    } else folder.under.set(key, readFolders(value, `${where}.${key}`, shown, warnings));
  }
  return folder;
}

/**
 * Each setting of the deepest entry that gives it on the model's way down: the project's name,
 * then its folders under the model path, then its own name, as dbt reads models:.
 */
function settingsIn(top: FolderConfig, name: string | undefined, steps: string[]): FolderSettings {
  const found: FolderSettings = {};
  const take = (entry: FolderConfig) => {
    found.materialized = entry.materialized ?? found.materialized;
    found.enabled = entry.enabled ?? found.enabled;
    found.unique_key = entry.unique_key ?? found.unique_key;
    found.lookback_days = entry.lookback_days ?? found.lookback_days;
  };
  take(top);
  // Without a name: in dbt_project.yml, the one entry under models: is taken as the project's.
  let at =
    name !== undefined ? top.under.get(name) : top.under.size === 1 ? [...top.under.values()][0] : undefined;
  if (at) {
    at.used = true;
    take(at);
  }
  for (const step of steps) {
    at = at?.under.get(step);
    if (!at) break;
    at.used = true;
    take(at);
  }
  return found;
}

function readPaths(raw: Record<string, unknown>, dir: string, shown: string): ProjectPaths {
  // Outside it, docs-paths: [/] walked the whole machine and ended in an EACCES inlet did not
  // foresee (exit 5); the engine that builds models reads nothing outside the project either.
  const outside = (p: string) => {
    const under = relative(dir, resolve(dir, p));
    return under === '..' || under.startsWith(`..${sep}`);
  };
  const folders = (key: string, fallback: string[]): string[] => {
    const value = raw[key] ?? fallback;
    if (
      !Array.isArray(value) ||
      value.length === 0 ||
      !value.every((p) => typeof p === 'string' && p !== '' && !outside(p))
    )
      throw new InletError(
        'MODEL_INVALID',
        `${shown}: ${key} must be a list of folders inside the project, such as ${JSON.stringify(fallback)}; it is ${JSON.stringify(value)}.`,
      );
    return value.map((p: string) => resolve(dir, p));
  };
  const paths: ProjectPaths = { models: [], seeds: [], tests: [], snapshots: [], docs: [] };
  for (const [key, kind] of Object.entries(PATH_KEYS)) paths[kind] = folders(key, [kind]);
  paths.docs =
    raw['docs-paths'] === undefined ? [...paths.models, ...paths.seeds] : folders('docs-paths', ['docs']);
  return paths;
}

/**
 * The project's vars: the top-level ones, then those scoped to the project by its name (dbt's
 * vars: { my_project: { x: 1 } }), which win as they do in dbt.
 */
function readVars(raw: Record<string, unknown>, shown: string): Record<string, unknown> {
  const vars = raw.vars ?? {};
  if (!isMap(vars))
    throw new InletError(
      'MODEL_INVALID',
      `${shown}: vars: must be a map of names to values, such as vars: { start_date: "2026-01-01" }.`,
    );
  const name = typeof raw.name === 'string' ? raw.name : undefined;
  const scoped = name !== undefined && isMap(vars[name]) ? vars[name] : {};
  const global = Object.fromEntries(
    Object.entries(vars).filter(([key]) => key !== name || !isMap(vars[key])),
  );
  return { ...global, ...scoped };
}

/** Reads dir/dbt_project.yml when there is one; without it, dbt's defaults (models/, seeds/, tests/). */
export function readDbtProject(dir: string): DbtProject {
  const path = join(dir, 'dbt_project.yml');
  if (!existsSync(path))
    return {
      vars: {},
      name: undefined,
      paths: readPaths({}, dir, path),
      shown: undefined,
      folderConfigFor: () => ({}),
      unusedFolders: () => [],
      applied: () => undefined,
      unappliedSettings: () => [],
      warnings: [],
    };
  const text = readProjectText(path);
  let raw: unknown;
  try {
    // No Node warning for a tag YAML does not know: reading vars: below refuses it, naming it.
    raw = parseYaml(text, { logLevel: 'error' });
  } catch (error) {
    throw new InletError('MODEL_INVALID', `${path} is not valid YAML: ${yamlErrorLine(error)}`);
  }
  if (raw === null || raw === undefined) raw = {};
  if (!isMap(raw))
    throw new InletError('MODEL_INVALID', `${path} must be a map of keys (name:, vars:, model-paths: …).`);
  for (const key of Object.keys(raw)) {
    if (key === 'vars' || key === 'models' || key === 'docs-paths' || key in PATH_KEYS || DBT_ONLY.has(key))
      continue;
    const instead = NOT_HONOURED[key];
    throw new InletError(
      'MODEL_INVALID',
      instead
        ? `${path}: ${key}: ${instead}.`
        : `${path}: ${key}: is not a key of dbt_project.yml that inlet knows; inlet reads vars:, models: (+materialized, +enabled, +unique_key, +lookback_days), model-paths:, seed-paths:, test-paths:, snapshot-paths: and docs-paths:. Correct or remove it.`,
    );
  }
  const paths = readPaths(raw, dir, path);
  const docsWarnings: string[] = [];
  const folders = readFolders(raw.models, 'models', path, docsWarnings);
  const name = typeof raw.name === 'string' ? raw.name : undefined;
  const strays = [...folders.under.keys()].filter((key) =>
    name === undefined ? folders.under.size > 1 : key !== name,
  );
  // Without name:, which entry is the project's is not known, so none is applied: refused, since the
  // models would be built otherwise than meant, and adding name: settles it.
  if (name === undefined && strays.length > 0)
    throw new InletError(
      'MODEL_INVALID',
      `${path}: models: configures ${strays.join(', ')}; say which is this project with name:, and remove the others (inlet has no packages).`,
    );
  // With name:, an entry under another name (dbt init's my_new_project left after a rename, a
  // package's) configures no model; dbt only warns of it, and refusing it would stop a project dbt runs.
  const warnings = [
    ...docsWarnings,
    ...strays.map(
      (stray) =>
        `${path}: models.${stray} configures no model: the project is named ${name} (name:), and inlet has no packages; put its settings under models.${name}, or remove it.`,
    ),
  ];
  const projectEntries = [...folders.under.entries()].filter(([key]) => !strays.includes(key));
  const applied = new Set<string>();
  // Read again for vars: alone, as dbt reads them (YAML 1.1, as PyYAML resolves it: 1.0 stays a float, yes is true).
  let varsYaml: unknown;
  try {
    varsYaml = parseVarsYaml(text);
  } catch (error) {
    throw new InletError(
      'MODEL_INVALID',
      `${path} is not valid YAML as dbt reads it: ${yamlErrorLine(error)}`,
    );
  }
  return {
    vars: readVars(varsYaml as Record<string, unknown>, path),
    name,
    paths,
    shown: path,
    folderConfigFor(modelPath) {
      const root = paths.models.find((folder) => !relative(folder, modelPath).startsWith('..'));
      if (root === undefined) return {};
      return settingsIn(
        folders,
        name,
        relative(root, modelPath)
          .replace(/\.sql$/, '')
          .split(sep),
      );
    },
    unusedFolders() {
      const unused = (folder: FolderConfig): string[] =>
        folder.used ? [...folder.under.values()].flatMap(unused) : [folder.where];
      return projectEntries.flatMap(([, folder]) => unused(folder));
    },
    applied(where) {
      applied.add(where);
    },
    unappliedSettings() {
      // A folder no model is in is warned of as a whole (unusedFolders); here, one whose models are
      // all tables, views or have their own: the setting is a typo or a leftover, of which dbt says nothing.
      const own = (folder: FolderConfig) =>
        [folder.unique_key?.where, folder.lookback_days?.where].filter(
          (where): where is string => where !== undefined && !applied.has(where),
        );
      const under = (folder: FolderConfig): string[] =>
        folder.used ? [...own(folder), ...[...folder.under.values()].flatMap(under)] : [];
      return [...own(folders), ...projectEntries.flatMap(([, folder]) => under(folder))];
    },
    warnings,
  };
}
