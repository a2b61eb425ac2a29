import { InletError } from '../errors/index.ts';
import type { ModelConfig } from './model-config.ts';
import type { Project } from './project-node.ts';

// dbt's sources: in a properties file, read as what inlet can use of them: descriptions and tests of
// the tables a source of inlet.yaml copies into the lake. Where the data is (database:, loader:) is
// inlet.yaml's to say, so those keys are passed over, but for schema: and identifier:, which name
// inlet.yaml's source and table where name: does not (source-check.ts resolves them); what would
// silently never happen is refused.

/** One table of a declared source: its description, columns and tests, as a model's are kept. */
export interface DeclaredTable {
  /** Its name in the lake, as a model reads it: crm.customers (inlet.yaml's names, once resolved). */
  name: string;
  /** The source's name: and the table's, as source() and source: selectors name it: crm.customers. */
  declared: string;
  /** dbt's identifier:, the table's name where it is not name: (in inlet, in inlet.yaml's tables:). */
  identifier?: string;
  config: ModelConfig;
  /** The file and the entry, as errors name them. */
  shown: string;
}

/** One entry of a properties file's sources: list. */
export interface DeclaredSource {
  name: string;
  description?: string;
  /** dbt's schema:, where dbt found the tables: inlet.yaml's source of that name when name: is not one. */
  schema?: string;
  /** The source of inlet.yaml its tables are in, once resolved, when it is not name: (its schema:). */
  lake?: string;
  tables: Map<string, DeclaredTable>;
  shown: string;
}

/** A sources: entry as a properties file has it, before its tables' configurations are parsed. */
export interface SourcesEntry {
  raw: unknown;
  /** The file, as errors name it. */
  file: string;
  index: number;
}

const isMap = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** Keys that say where dbt finds the data, which inlet.yaml says instead: taken, and nothing done (but schema:, read for a name: inlet.yaml lacks). */
const WHERE_ONLY = new Set(['schema', 'database', 'loader', 'quoting', 'docs', 'persist_docs']);

/**
 * What inlet does instead of dbt's source keys that would change what is read or checked;
 * configFile is the configuration file's name (configFileName), whose sources: do some of it.
 */
const refused = (configFile: string): Record<string, string> => ({
  freshness:
    "inlet checks no freshness; inlet catalog shows each table's updated_at, and a test under tests/ can fail on an old max(updated_at)",
  loaded_at_field: 'inlet checks no freshness (see freshness:)',
  meta: 'inlet has no meta, since nothing would read it; write notes in a description',
  tags: 'inlet selects models by name, not tag',
  config: `a source has no configuration in inlet; its tables are configured in ${configFile}'s sources:`,
  overrides: 'inlet has no packages whose sources could be overridden',
  external: `a source's files are configured in ${configFile}'s sources: (type: csv)`,
});

const TABLE_KEYS = new Set(['name', 'identifier', 'description', 'columns', 'tests', 'data_tests']);

/**
 * The sources: entries of the properties files, each table's configuration (description, columns:
 * with their tests, table tests:) parsed as a model's is. configFile, the configuration file's name
 * (configFileName), is where errors say a source is configured.
 */
export function parseSources(
  entries: SourcesEntry[],
  parseTable: (raw: Record<string, unknown>, shown: string) => ModelConfig,
  configFile: string,
): Map<string, DeclaredSource> {
  const sources = new Map<string, DeclaredSource>();
  for (const { raw, file, index } of entries) {
    const at = `${file}: sources[${index}]`;
    const invalid = (message: string) => new InletError('MODEL_INVALID', `${at}${message}`);
    if (!isMap(raw) || typeof raw.name !== 'string' || raw.name === '')
      throw invalid(
        `: has no name:; each entry is { name: <a source of ${configFile}>, tables: [{ name: …, description: … }] }`,
      );
    const name = raw.name;
    const shown = `${file} (source ${name})`;
    checkKeys(raw, new Set(['name', 'description', 'tables']), configFile, (message) =>
      invalid(` (${name}): ${message}`),
    );
    // description: left empty (null) is no description, as a model's is.
    if (raw.description != null && typeof raw.description !== 'string')
      throw invalid(` (${name}): description: must be text`);
    // As in dbt, one source's tables may be declared in several files (one per staging folder).
    const other = sources.get(name);
    if (other?.description !== undefined && typeof raw.description === 'string')
      throw invalid(` (${name}): description: ${other.shown} describes source ${name} too; keep one`);
    const tables = other?.tables ?? new Map<string, DeclaredTable>();
    const list = raw.tables ?? [];
    if (!Array.isArray(list))
      throw invalid(` (${name}): tables: must be a list of { name: …, description: …, columns: … }`);
    addTables(list, { at, source: name, file, tables, parseTable, configFile });
    const description = typeof raw.description === 'string' ? raw.description : other?.description;
    sources.set(name, {
      name,
      ...(description === undefined ? {} : { description }),
      ...(typeof raw.schema === 'string'
        ? { schema: raw.schema }
        : other?.schema
          ? { schema: other.schema }
          : {}),
      tables,
      // The file that describes the source, as a second description's error names it.
      shown: other && typeof raw.description !== 'string' ? other.shown : shown,
    });
  }
  return sources;
}

/** Adds a sources: entry's tables to those of its source (another file's entry may have some). */
function addTables(
  list: unknown[],
  into: {
    at: string;
    source: string;
    file: string;
    tables: Map<string, DeclaredTable>;
    parseTable: (raw: Record<string, unknown>, shown: string) => ModelConfig;
    configFile: string;
  },
): void {
  const { at, source, file, tables, parseTable, configFile } = into;
  list.forEach((table: unknown, i) => {
    const where = `${at}.tables[${i}]`;
    if (!isMap(table) || typeof table.name !== 'string' || table.name === '')
      throw new InletError(
        'MODEL_INVALID',
        `${where}: has no name:; each table is { name: <table>, description: …, columns: [...] }`,
      );
    checkKeys(
      table,
      TABLE_KEYS,
      configFile,
      (message) => new InletError('MODEL_INVALID', `${where} (${table.name}): ${message}`),
    );
    const twice = tables.get(table.name);
    if (twice)
      throw new InletError(
        'MODEL_INVALID',
        `${where}: declares ${twice.name} a second time (also in ${twice.shown}); give each table once`,
      );
    const { name: tableName, identifier, ...rest } = table;
    if (identifier !== undefined && (typeof identifier !== 'string' || identifier === ''))
      throw new InletError('MODEL_INVALID', `${where} (${tableName}): identifier: must be a table's name`);
    const full = `${source}.${tableName}`;
    const tableShown = `${file} (source table ${full})`;
    tables.set(tableName, {
      name: full,
      declared: full,
      ...(identifier === undefined ? {} : { identifier }),
      config: parseTable(rest, tableShown),
      shown: tableShown,
    });
  });
}

/** Refuses a key outside known that dbt's words do not pass over, saying what to do instead (in configFile). */
function checkKeys(
  raw: Record<string, unknown>,
  known: Set<string>,
  configFile: string,
  invalid: (message: string) => InletError,
): void {
  for (const key of Object.keys(raw)) {
    if (known.has(key) || WHERE_ONLY.has(key)) continue;
    const instead = refused(configFile)[key];
    throw invalid(
      instead
        ? `${key}: is dbt's, and ${instead}; remove it.`
        : `${key}: is not a key inlet reads there (it takes ${[...known].join(', ')}); remove it.`,
    );
  }
}

/** Each declared source table's configuration, by the name models read it (crm.customers). */
export function sourceTableConfigs(project: Project | undefined): Map<string, ModelConfig> {
  return new Map(
    [...(project?.sources.values() ?? [])].flatMap((source) =>
      [...source.tables.values()].map((table) => [table.name, table.config] as const),
    ),
  );
}

/** The description sources: gives the source of inlet.yaml named so (by its name:, or its schema:). */
export function sourceDescription(project: Project | undefined, source: string): string | undefined {
  return [...(project?.sources.values() ?? [])].find(
    (declared) => (declared.lake ?? declared.name) === source,
  )?.description;
}
