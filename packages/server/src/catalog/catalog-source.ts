import { configFileName, type InletConfig, leftOutSource } from '../config/index.ts';
import { logTableHint } from '../engine/index.ts';
import { InletError } from '../errors/index.ts';
import { configuredSources, type Project, sourceDescription, sourceProblem } from '../models/index.ts';
import { logSourceTables, logTableSources, sourceTableNames } from '../sources/index.ts';
import type { CatalogTable } from './catalog-table.ts';

// A dbt user looks a source up as dbt's selectors and docs name it (source:crm), not by one of its
// tables: the catalog shows the source, its description and its tables with theirs.

/** A source of inlet.yaml as the catalog shows it. */
export interface CatalogSource {
  /** Its name in inlet.yaml (crm), which its tables start with (crm.customers). */
  name: string;
  /** What a properties file's sources: says of the source itself, null when none does. */
  description: string | null;
  /** Its tables in the lake, as inlet catalog lists them. */
  tables: CatalogTable[];
  /**
   * The tables inlet.yaml has it copy that are not in the lake yet (inlet sync copies them); null
   * when they cannot be told, as the source is not configured.
   */
  not_synced: string[] | null;
  /**
   * False when inlet.yaml leaves the source out for an unset variable (url: ${CRM_URL}): its tables
   * in the lake are from earlier syncs, and nothing syncs it. An empty not_synced said all was copied.
   */
  configured: boolean;
}

/**
 * The source a name gives: inlet.yaml's name, or dbt's name: that a properties file maps to one by
 * its schema: (raw_crm for crm), with or without dbt's source: before it.
 */
export function catalogSource(
  config: Pick<InletConfig, 'sources' | 'sourcesLeftOut' | 'sourcesLeftOutBy' | 'configPath'>,
  project: Project | undefined,
  tables: CatalogTable[],
  typed: string,
): CatalogSource {
  const asked = typed.replace(/^source:/, '').replace(/\.\*$/, '');
  const file = configFileName(config);
  const configured = sourceTableNames(config);
  const declared = project?.sources.get(asked);
  const name = declared?.lake ?? (configured.has(asked.toLowerCase()) ? asked.toLowerCase() : asked);
  if (!configured.has(name) && !config.sourcesLeftOut.includes(name)) {
    const names = [...configured.keys(), ...config.sourcesLeftOut].join(', ');
    throw new InletError(
      'NOT_FOUND',
      `No source named "${asked}"; ${names ? `${file}'s sources are ${names}` : `none is configured: add it under sources: in ${file}`} (inlet catalog lists every table).`,
    );
  }
  const copies = configured.get(name);
  if (copies === undefined && !config.sourcesLeftOut.includes(name)) {
    // It pointed to access_logs or app_logs whatever the source writes: a table: of its own was neither.
    const table = logSourceTables(config).get(name);
    throw new InletError(
      'NOT_FOUND',
      table === undefined
        ? `${name} is a log source, whose rows are a table of its own (access_logs, app_logs): inlet catalog access_logs (or app_logs) shows it.`
        : `${name} is a log source, whose rows are the table ${table}, not tables of its own: inlet catalog ${table} shows it.`,
    );
  }
  const own = tables.filter((table) => table.kind === 'source_table' && table.name.startsWith(`${name}.`));
  // As inlet ls says it: an empty list read as a source that copies nothing.
  const leftOut = leftOutSource(file, config.sourcesLeftOutBy[name]);
  if (own.length === 0 && copies === undefined)
    throw new InletError(
      'NOT_FOUND',
      `"${typed}" names a source whose tables cannot be listed: ${leftOut.why}; ${leftOut.set} to list them.`,
    );
  const synced = new Set(own.map((table) => table.name));
  return {
    name,
    description: sourceDescription(project, name) ?? null,
    tables: own,
    not_synced:
      copies === undefined
        ? null
        : copies.map((table) => `${name}.${table}`).filter((table) => !synced.has(table)),
    configured: copies !== undefined,
  };
}

/** The error for a table named as dbt's source: selector names a source, pointing to the source. */
export function sourceNamedAsTable(typed: string, source: CatalogSource): InletError {
  const tables = [...source.tables.map((table) => table.name), ...(source.not_synced ?? [])];
  return new InletError(
    'NOT_FOUND',
    `"${typed}" is a source, not a table: inlet catalog ${typed} shows it; its tables are ${tables.join(', ') || 'none yet'} (inlet catalog <table> shows one).`,
  );
}

/**
 * dbt's package-qualified source:shop.crm.customers (and source:shop.crm.*) as inlet names it,
 * source:crm.customers, when shop is the project's name: in dbt_project.yml (inlet ls prints them so).
 * Another project's name is refused as inlet run refuses it: naming the project there is, and the
 * forms that work, where looking up "web.crm" as a source said only that there was none.
 */
export function withoutProject(name: string, projectName: string | undefined): string {
  const found = /^source:([^.]+)\.([^.]+\.[^.]+)$/.exec(name);
  if (!found) return name;
  const [, project = '', rest = ''] = found;
  if (project === projectName) return `source:${rest}`;
  const named =
    projectName === undefined
      ? "but this project's dbt_project.yml has no name:"
      : `but this project is ${projectName} (name: in dbt_project.yml)`;
  const also = projectName === undefined ? '' : ` (or source:${projectName}.${rest})`;
  throw new InletError(
    'NOT_FOUND',
    `"${name}" names the project ${project}, ${named}; leave the project out: inlet catalog source:${rest}${also}.`,
  );
}

/**
 * The error for a table a configured source copies that is not in the lake yet (crm.customers
 * before inlet sync crm), or a log table no log has been written to yet (access_logs, a file
 * source's table:), which were said to be no table at all; undefined for any other name.
 */
export function notSyncedYet(
  config: Pick<InletConfig, 'sources' | 'sourcesLeftOut' | 'sourcesLeftOutBy' | 'configPath'>,
  typed: string,
): InletError | undefined {
  const copied = copiedBy(config, typed);
  if (copied === undefined) return leftOutSourceTable(config, typed) ?? logTableNotWritten(config, typed);
  const { source, table } = copied;
  return new InletError(
    'NOT_FOUND',
    `${source}.${table} is a table the source ${source} copies, not synced yet, so it has no rows or columns to show: inlet sync ${source} copies it (inlet catalog source:${source} shows the source).`,
  );
}

/** The error for a table of a source inlet.yaml leaves out for an unset variable; undefined for another name. */
function leftOutSourceTable(
  config: Pick<InletConfig, 'sourcesLeftOut' | 'sourcesLeftOutBy' | 'configPath'>,
  typed: string,
): InletError | undefined {
  const name = typed.toLowerCase();
  const [source, table] = name.split(/\.(.*)/);
  if (source === undefined || table === undefined || !config.sourcesLeftOut.includes(source))
    return undefined;
  const leftOut = leftOutSource(configFileName(config), config.sourcesLeftOutBy[source]);
  return new InletError(
    'NOT_FOUND',
    `${name} is not in the lake, and the source ${source} that would copy it is not configured now: ${leftOut.why}; ${leftOut.set}, then inlet sync ${source}.`,
  );
}

/** The error for a log table nothing has written yet, naming what writes it; undefined for another name. */
function logTableNotWritten(config: Pick<InletConfig, 'sources'>, typed: string): InletError | undefined {
  const name = typed.toLowerCase();
  const writers = logTableSources(config).get(name);
  if (writers) {
    const by =
      writers.length === 1
        ? `the log source ${writers[0]} writes, and it has written none yet`
        : `the log sources ${writers.join(', ')} write, and none has written any yet`;
    return new InletError(
      'NOT_FOUND',
      `${name} is the table ${by}, so it has no rows or columns to show: inlet sync ${writers[0]} writes it (or inlet start tails it).`,
    );
  }
  const hint = logTableHint(name);
  if (hint === undefined) return undefined;
  const kind = name === 'access_logs' ? 'access logs' : 'application logs';
  return new InletError(
    'NOT_FOUND',
    `${name} is the table of ${kind}, and no log has been written to it yet, so it has no rows or columns to show; ${hint}.`,
  );
}

/**
 * Why a table a model reads is not in the lake, for the page of a model not built yet: one a
 * configured source writes but has not written yet (a log source's table, crm.customers before
 * inlet sync crm), or one nothing in inlet.yaml writes. DuckDB said only that it does not exist,
 * which read as an error in the model's SQL.
 */
export function notInLake(
  config: Pick<InletConfig, 'sources' | 'sourcesLeftOut' | 'sourcesLeftOutBy' | 'configPath'>,
  typed: string,
): string {
  const file = configFileName(config);
  const copied = copiedBy(config, typed);
  if (copied)
    return `it reads ${copied.source}.${copied.table}, a table the source ${copied.source} copies, not synced yet: inlet sync ${copied.source} copies it`;
  const name = typed.toLowerCase();
  const [schema, table] = name.split(/\.(.*)/);
  if (schema !== undefined && table !== undefined) {
    const problem = sourceProblem(configuredSources(config), schema, table);
    const leftOut = leftOutSource(file, config.sourcesLeftOutBy[schema]);
    return problem === undefined
      ? `it reads ${name}, of the source ${schema}: ${leftOut.why}, so nothing syncs it; ${leftOut.set}, then inlet sync ${schema}`
      : `it reads ${name}, which is not in the lake (${problem})`;
  }
  const writers = logTableSources(config).get(name);
  if (writers)
    return `it reads ${name}, which no log source has written yet: it appears once ${writers.length === 1 ? 'the log source' : 'one of the log sources'} ${writers.join(', ')}, which ${writers.length === 1 ? 'writes' : 'write'} it, has synced (inlet sync ${writers[0]}, or inlet start tails it)`;
  const hint = logTableHint(name);
  if (hint) return `it reads ${name}, which no log source has written yet; ${hint}`;
  return `it reads ${typed}, which is neither a table of the lake nor a model, and which no source in ${file} writes (no log source has table: ${name}): correct the name in its SQL; inlet catalog lists the tables`;
}

/** The configured source and table a name such as crm.customers (in any case) is, when a source copies it. */
function copiedBy(
  config: Pick<InletConfig, 'sources'>,
  typed: string,
): { source: string; table: string } | undefined {
  const dot = typed.indexOf('.');
  if (dot < 0) return undefined;
  const [source, tables] =
    [...sourceTableNames(config)].find(
      ([name]) => name.toLowerCase() === typed.slice(0, dot).toLowerCase(),
    ) ?? [];
  const table = tables?.find((name) => name.toLowerCase() === typed.slice(dot + 1).toLowerCase());
  return source === undefined || table === undefined ? undefined : { source, table };
}
