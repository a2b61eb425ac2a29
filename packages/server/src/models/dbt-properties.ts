import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseYamlStrictly, yamlErrorLine } from '../config/index.ts';
import { namesNear } from '../edit-distance.ts';
import { InletError } from '../errors/index.ts';
import type { SourcesEntry } from './dbt-sources.ts';
import { isProjectFolder, readProjectText } from './project-text.ts';

/** One model's or seed's entry of a dbt properties file, as a configuration to parse. */
export interface PropertiesEntry {
  raw: Record<string, unknown>;
  /** The file and the entry, as errors name them. */
  shown: string;
}

/** What each kind of node a properties file configures, by name. */
export interface Properties {
  models: Map<string, PropertiesEntry>;
  seeds: Map<string, PropertiesEntry>;
  /** dbt's sources: entries, describing tables of inlet.yaml's sources. */
  sources: SourcesEntry[];
}

/** What dbt's other keys are, for who ports a project: none of them does anything in inlet. */
const NOT_HERE: Record<string, string> = {
  snapshots: 'inlet has no snapshots; an incremental model by unique_key keeps the latest row of each key',
  macros: 'inlet has no macros; a model is plain SQL with the tags of docs/models.md',
};

const isMap = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * True for a dbt properties file (version: 2, models:, seeds: or sources:), which a model's own configuration
 * never is: dbt projects often keep one per model, named after it (orders.yml beside orders.sql).
 */
export const isPropertiesFile = (raw: unknown): boolean =>
  isMap(raw) && ('models' in raw || 'seeds' in raw || 'sources' in raw || 'version' in raw);

/** YAML files under dir, _-prefixed ones and those in _-prefixed folders too (dbt's style: models/_orders__models.yml). */
function yamlFilesUnder(dir: string): string[] {
  if (!isProjectFolder(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...yamlFilesUnder(path));
    else if (/\.ya?ml$/.test(entry.name)) out.push(path);
  }
  return out.sort();
}

/**
 * Reads dbt's properties files (schema.yml: version: 2, models: and seeds: lists of { name, … }) under
 * models/ and seeds/: every YAML file that is not the configuration beside a .sql or .csv. Each
 * entry becomes that node's configuration, dbt's config: { materialized: … } read as its own keys.
 * A YAML file that is neither fails by name: left unread, its tests would never run.
 */
export function readProperties(dirs: string[], shownPath: (path: string) => string): Properties {
  const properties: Properties = { models: new Map(), seeds: new Map(), sources: [] };
  const files = dirs.flatMap(yamlFilesUnder);
  for (const path of files) {
    const stem = path.replace(/\.ya?ml$/, '');
    const beside = existsSync(`${stem}.sql`) || existsSync(`${stem}.csv`);
    const shown = shownPath(path);
    const invalid = (message: string) => new InletError('MODEL_INVALID', `${shown}: ${message}`);
    const text = readProjectText(path, shown);
    let raw: unknown;
    try {
      raw = parseYamlStrictly(text);
    } catch (error) {
      // The configuration beside a model says so itself, as that model's.
      if (beside) continue;
      throw invalid(`is not valid YAML: ${yamlErrorLine(error)}`);
    }
    // A model's own configuration, read with its model.
    if (beside && !isPropertiesFile(raw)) continue;
    if (!isPropertiesFile(raw) || !isMap(raw))
      throw invalid(
        `configures no model: there is no ${stem.split('/').at(-1)}.sql or .csv beside it, and it is no dbt properties file (version: 2 with models:, seeds: or sources:); rename it after its model, or remove it.`,
      );
    for (const [key, value] of Object.entries(raw)) {
      if (key === 'version') continue;
      if (key !== 'models' && key !== 'seeds' && key !== 'sources')
        throw invalid(
          `${key}: ${NOT_HERE[key] ?? 'is not read by inlet, which takes models:, seeds: and sources: from a properties file'}; remove it.`,
        );
      if (value === null) continue;
      if (!Array.isArray(value))
        throw invalid(
          `${key}: must be a list of { name: …, description: …, ${key === 'sources' ? 'tables' : 'columns'}: … }`,
        );
      if (key === 'sources') {
        value.forEach((entry: unknown, index) => {
          properties.sources.push({ raw: entry, file: shown, index });
        });
        continue;
      }
      value.forEach((entry: unknown, i) => {
        if (!isMap(entry) || typeof entry.name !== 'string' || entry.name === '')
          throw invalid(`${key}[${i}]: has no name:; each entry is { name: <${key.slice(0, -1)}>, … }`);
        const { name, config, ...rest } = entry;
        if (config !== undefined && !isMap(config))
          throw invalid(`${key}[${i}] (${name}): config: must be a map such as { materialized: table }`);
        const twice = Object.keys(config ?? {}).find((k) => k in rest);
        if (twice)
          throw invalid(`${key}[${i}] (${name}): gives ${twice} both under config: and beside it; keep one`);
        const map = properties[key];
        const other = map.get(name);
        if (other) throw invalid(`${key}[${i}] names ${name}, which ${other.shown} configures too; keep one`);
        map.set(name, { raw: { ...rest, ...config }, shown: `${shown} (${key.slice(0, -1)} ${name})` });
      });
    }
  }
  return properties;
}

/** What inlet does instead of the dbt configuration keys a ported project has. */
const DBT_KEYS: Record<string, string> = {
  data_type: 'a column has the type its SELECT gives it; cast there (x::INTEGER)',
  constraints: 'check a column with tests: [not_null, unique] instead',
  contract: 'check columns with tests: instead',
  meta: "inlet has no meta, since nothing would read it; give a model's owner as its owner:, and other notes in a description",
  tags: 'inlet selects models by name, not tag',
  quote: 'inlet quotes every column name as written',
  incremental_strategy: 'an incremental model merges by unique_key, or replaces dt partitions without one',
  partition_by: 'an incremental model without unique_key is partitioned by the dt DATE column it outputs',
  on_schema_change: 'an incremental model whose columns change fails and says to run it with --full-refresh',
  enabled: 'only a model or a seed as a whole is switched off, with enabled: false in its own configuration',
  pre_hook: 'inlet runs no hooks; make the work a model, or a test under tests/',
  post_hook: 'inlet runs no hooks; make the work a model, or a test under tests/',
  full_refresh:
    'a model is rebuilt whole only by inlet run --full-refresh; leave it out of such a run with --exclude',
  alias: "a model's table is named after its file",
  schema: "a model's table is named after its file",
  database: "a model's table is named after its file",
};

/** dbt's docs: and persist_docs:, which change only dbt's docs site or database comments: taken, and nothing done with them. */
export const DOCS_ONLY = new Set(['docs', 'persist_docs']);

/**
 * The warning for docs: { show: false }, taken but not honoured: inlet's catalog lists every model
 * and seed; at names the key as written. Undefined for any other docs key, which changes nothing
 * a user of inlet sees.
 */
export function hiddenDocsWarning(key: string, value: unknown, at: string): string | undefined {
  const show = value !== null && typeof value === 'object' && (value as Record<string, unknown>).show;
  if (key !== 'docs' || show !== false) return undefined;
  return `${at}: { show: false } is passed over: inlet's catalog lists every model and seed, with its description; remove it.`;
}

/** What inlet does instead of one of dbt's configuration keys (pre-hook as dbt_project.yml writes it too). */
export function dbtKeyHint(key: string): string | undefined {
  return DBT_KEYS[key.replace(/-/g, '_')];
}

/** The message for keys a configuration does not take, with what to do for dbt's own. */
export function unknownKeysMessage(message: string, known: readonly string[] = []): string {
  const keys = [...message.matchAll(/"([^"]+)"/g)].map((found) => found[1] ?? '');
  const hints = keys.filter((key) => DBT_KEYS[key]).map((key) => `${key}: ${DBT_KEYS[key]}`);
  if (hints.length > 0) return `${message} (dbt's ${hints.join('; ')}; remove it)`;
  // A key misspelt (materialised) was named with no word of the one meant.
  const meant = namesNear(keys, known);
  return meant.length > 0 ? `${message} (did you mean ${meant.join(', ')}?)` : message;
}
