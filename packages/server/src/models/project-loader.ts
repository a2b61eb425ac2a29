import { existsSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { configFileName, parseYamlStrictly, yamlErrorLine } from '../config/index.ts';
import { InletError } from '../errors/index.ts';
import { takeConfigCall } from './dbt-config.ts';
import { describeWithDocs, readDocBlocks } from './dbt-docs.ts';
import { type DbtProject, type FolderSettings, readDbtProject } from './dbt-project.ts';
import { DOCS_ONLY, hiddenDocsWarning, type PropertiesEntry, readProperties } from './dbt-properties.ts';
import { type DeclaredSource, parseSources } from './dbt-sources.ts';
import { checkNoRefToDisabled } from './disabled-refs.ts';
import { modelConfigSchema } from './model-config.ts';
import { invalidConfig, parseModelConfig } from './model-config-reader.ts';
import { checkTemplate, templateRefs, templateSources } from './model-template.ts';
import { type ModelVars, renderVars } from './model-vars.ts';
import { checkName, filesIn, foldersOf, siblingYaml } from './project-files.ts';
import type { DisabledModel, Project, ProjectNode, SingularTest } from './project-node.ts';
import { readProjectText } from './project-text.ts';

/** The project that ships with inlet: the built-in product marts. */
export const BUILTIN_PROJECT_DIR = resolve(import.meta.dirname, '../../project');

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

const FRONT_MATTER = /^\s*\/\*\s*---[ \t]*\r?\n([\s\S]*?)\r?\n\s*---\s*\*\//;
/** --- alone on the first line and again on a later one, with a YAML key between. */
const BARE_FRONT_MATTER =
  /^\s*---[ \t]*\r?\n(?:[ \t]*[A-Za-z_][\w-]*[ \t]*:.*\r?\n|[ \t]*(?:#.*)?\r?\n|[ \t]+.*\r?\n)+[ \t]*---[ \t]*(?:\r?\n|$)/;

const isMap = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

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

function readDir(
  root: string,
  origin: ProjectNode['origin'],
  dbt: DbtProject,
  vars: ModelVars,
  configFile: string,
): {
  nodes: ProjectNode[];
  tests: SingularTest[];
  disabled: DisabledModel[];
  warnings: string[];
  sources: Map<string, DeclaredSource>;
} {
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
    const text = readProjectText(path, shown);
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
        // Blank lines before it, so that a line named in an error is the model file's.
        const before = front[0].slice(0, front[0].indexOf('---')).split('\n').length;
        raw = parseYamlStrictly('\n'.repeat(before) + (front[1] ?? ''));
      } catch (error) {
        throw new InletError(
          'MODEL_INVALID',
          `${shown}: the front matter is not valid YAML: ${yamlErrorLine(error)}`,
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
      sources: templateSources(sql),
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
      sources: [],
      origin,
      configured: raw !== undefined,
      ...(configFile ? { configFile } : {}),
    });
  }
  for (const kind of ['models', 'seeds'] as const)
    for (const entry of properties[kind].values())
      throw new InletError(
        'MODEL_INVALID',
        `${entry.shown}: there is no such ${kind === 'models' ? 'model (no .sql file under models/ by that name)' : 'seed (no .csv file under seeds/ by that name)'}; correct the name, or remove the entry.`,
      );
  // A source table's description and tests are kept as a model's are (doc blocks, vars and all).
  const sources = parseSources(
    properties.sources,
    (raw, shown) => describeWithDocs(parseModelConfig(raw, shown, 'model', vars), docs, shown),
    configFile,
  );
  const tests = filesIn(paths.tests, '.sql').map((path) => {
    const sql = renderVars(readProjectText(path, shownPath(path)), vars, shownPath(path));
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
    return {
      name: basename(path, '.sql'),
      path,
      sql,
      refs: templateRefs(sql),
      sources: templateSources(sql),
    };
  });
  return { nodes, tests, disabled, warnings, sources };
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
  /** The file the configuration was read from, which errors name (configFileName); undefined when none was. */
  configPath?: string | undefined;
}): Project {
  const nodes = new Map<string, ProjectNode>();
  const tests: SingularTest[] = [];
  const disabled = new Map<string, DisabledModel>();
  const warnings: string[] = [];
  const sources = new Map<string, DeclaredSource>();
  const add = (found: ReturnType<typeof readDir>) => {
    warnings.push(...found.warnings);
    for (const [name, source] of found.sources) sources.set(name, source);
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
  const configFile = configFileName({ configPath: options.configPath });
  if (options.builtin)
    add(readDir(BUILTIN_PROJECT_DIR, 'builtin', readDbtProject(BUILTIN_PROJECT_DIR), vars, configFile));
  if (dir && dbt) add(readDir(dir, 'project', dbt, vars, configFile));
  checkNoRefToDisabled(nodes, tests, disabled);
  const off = [...disabled.values()].filter((model) => !nodes.has(model.name));
  return {
    dir,
    ...(dbt?.name === undefined ? {} : { name: dbt.name }),
    nodes,
    tests,
    sources,
    disabled: new Map(
      off.map((model) => [model.name, { where: `${model.by}, for ${model.path}`, folders: model.folders }]),
    ),
    warnings,
  };
}
