import type { InletConfig } from '../config/index.ts';
import { FILE_RACE } from '../engine/index.ts';
import { InletError } from '../errors/index.ts';
import {
  type DamagedManifest,
  dataLayout,
  type LakeTable,
  listLakeTables,
  type ReadLeases,
  tableOfFolder,
} from '../lake/index.ts';
import { errorFields, type Logger } from '../log/index.ts';
import {
  type BuildEngine,
  columnDescriptions,
  createBuildEngine,
  openProject,
  type Project,
  quoteName,
  sourceDescription,
  sourceTableConfigs,
} from '../models/index.ts';
import { logTableSources } from '../sources/index.ts';
import {
  type CatalogSource,
  catalogSource,
  notInLake,
  notSyncedYet,
  sourceNamedAsTable,
  withoutProject,
} from './catalog-source.ts';
import {
  type CatalogTable,
  type CatalogTableDetail,
  type Snapshot,
  tableKind,
  testNames,
  withoutBlankEnds,
} from './catalog-table.ts';
import { byColumn, resolveDescriptions } from './column-descriptions.ts';
import { type DocsGap, docsGaps } from './docs-check.ts';
import { EVENT_COLUMN_DESCRIPTIONS, EVENTS_DESCRIPTION } from './event-columns.ts';
import { buildLineage, type Lineage } from './lineage.ts';
import { byName, notBuiltDetails } from './not-built.ts';
import { countRows } from './row-count.ts';
import { createSqlInputs } from './sql-inputs.ts';
import { addStats, fileStats, globRoot, NO_FILES, walStats } from './table-files.ts';

export interface Catalog {
  tables(): Promise<CatalogTable[]>;
  table(name: string): Promise<CatalogTableDetail>;
  /** A source of inlet.yaml (crm, dbt's source:crm or a name its schema: maps) with its tables. */
  source(name: string): Promise<CatalogSource>;
  lineage(): Promise<Lineage>;
  /** Marts and columns without a description. */
  docsCheck(): Promise<DocsGap[]>;
  close(): void;
}

/** Looks the catalog may take again because a file they listed went away meanwhile. */
const FILE_RACE_RETRIES = 3;

/**
 * The catalog: every table and view the engine knows, with columns and types from DuckDB, rows,
 * size, partitions, freshness and descriptions (manifests, model YAML, inherited by column name),
 * and the lineage between them. It keeps its own DuckDB, opened on first use.
 */
export function createCatalog(options: {
  config: InletConfig;
  logger: Logger;
  /** This process's loader's, as the query engine's: no WAL segment a look may read is deleted under it. */
  leases?: ReadLeases;
  /** Told each time a look is taken again because a file it listed went away meanwhile. */
  onFileRace?: (detail: string) => void;
  /** What the models' {{ var('name') }} is, over the vars: of dbt_project.yml (dbt's --vars). */
  vars?: Record<string, unknown>;
  /** Told, once each, what is wrong in the project but changes nothing; by default logged as a warning. */
  onWarning?: (message: string) => void;
  /** Told each time a model's SQL is parsed for what it reads (not when the same SQL was parsed before). */
  onModelParsed?: (model: string) => void;
  /** Told each time DuckDB is asked for the columns of a model or seed not built yet (a DESCRIBE of its SQL). */
  onModelDescribed?: (model: string) => void;
}): Catalog {
  const { config, logger, leases } = options;
  // The catalog's DuckDB lives as long as the catalog, so it must not hold a lease all that time
  // (no loaded segment would ever be deleted): each look takes one of its own, and the DuckDB only
  // leaves out the segments being retired.
  const viewLeases: ReadLeases | undefined = leases && { ...leases, begin: () => () => undefined };
  const layout = dataLayout(config.data_dir);
  let engine: Promise<BuildEngine> | undefined;
  // The project is read again at each look; a warning about it is news only the first time.
  const warned = new Set<string>();
  const warn = options.onWarning ?? ((message: string) => logger.warn(message));
  const warnOnce = (warnings: string[]) => {
    for (const warning of warnings.filter((w) => !warned.has(w))) {
      warned.add(warning);
      warn(warning);
    }
  };
  const sqlInputs = createSqlInputs(options.onModelParsed);
  const describing = {
    onDescribed: options.onModelDescribed,
    whyNotInLake: (table: string) => notInLake(config, table),
  };
  let queue: Promise<unknown> = Promise.resolve();
  // One look at a time: the snapshot uses one DuckDB connection.
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work, work);
    queue = next.catch(() => undefined);
    return next;
  };

  const describe = async (
    db: BuildEngine,
    name: string,
    listed: { dir: string; table: LakeTable } | undefined,
    unavailable: string | undefined,
  ): Promise<CatalogTableDetail> => {
    const table = listed?.table;
    // A table left out of the engine has no columns to ask DuckDB about, nor rows to count.
    const columns = unavailable
      ? []
      : (await db.rows(`DESCRIBE ${quoteName(name)}`)).map((row) => ({
          name: String(row.column_name),
          type: String(row.column_type),
          description: null,
        }));
    const isView = table?.sql !== undefined;
    const stats =
      name === 'events'
        ? addStats(fileStats(layout.events), walStats(layout.walEvents))
        : listed && !isView
          ? fileStats(globRoot(listed.dir, listed.table.files))
          : NO_FILES;
    const rows = isView || unavailable ? null : await countRows(db, name, config);
    return {
      name,
      kind: tableKind(name, table?.kind),
      // What the lake has, for a mart no model defines now (or while the project cannot be read): a
      // view's size showed as 0 B, as if it were an empty table. A model's YAML says it below.
      materialized: isView ? 'view' : null,
      description: name === 'events' ? EVENTS_DESCRIPTION : (table?.description ?? null),
      owner: null,
      rows,
      bytes: stats.bytes,
      files: stats.files,
      partitions: {
        count: stats.partitions.length,
        first: stats.partitions[0] ?? null,
        last: stats.partitions.at(-1) ?? null,
      },
      partition_list: stats.partitions,
      updated_at: stats.updatedAt,
      // A manifest written before builds left {{ this }} out lists the model as its own input.
      depends_on: (table?.depends_on ?? []).filter((dep) => dep !== name),
      columns,
      // A model's SQL keeps a line break for each line of its front matter (and Jinja leaves blank
      // lines), so DuckDB's line numbers match the file; shown, they are only space around the SQL.
      ...(isView && table?.sql !== undefined ? { sql: withoutBlankEnds(table.sql) } : {}),
      ...(unavailable ? { unavailable } : {}),
      built: true,
      tests: [],
      upstream: [],
      downstream: [],
    };
  };

  /**
   * One look, as the query engine runs a query: under a read lease, and taken again a moment later
   * when a file it listed went away before DuckDB read it (a WAL segment another process's loader
   * loaded and deleted, Parquet files compaction merged): the new listing has what replaced them.
   */
  const snapshot = async (): Promise<Snapshot> => {
    for (let attempt = 0; ; attempt++) {
      const endLease = leases?.begin();
      try {
        return await look();
      } catch (error) {
        const message = (error as Error).message;
        if (!FILE_RACE.test(message)) throw error;
        if (attempt >= FILE_RACE_RETRIES)
          throw new InletError(
            'QUERY_BUSY',
            `Files of the lake went away while the catalog read them (compaction or a loader replaced them: ${message.split('\n')[0]}); retry in a moment.`,
            { retryAfterSeconds: 1, cause: error },
          );
        options.onFileRace?.(message);
      } finally {
        endLease?.();
      }
      // A deletion still under way would be listed again at once.
      await new Promise((resolve) => setTimeout(resolve, 20 * (attempt + 1)));
    }
  };

  const look = async (): Promise<Snapshot> => {
    engine ??= createBuildEngine({ config, layout, leases: viewLeases, readOnly: true });
    const db = await engine;
    await db.refreshViews();
    const damaged: DamagedManifest[] = [];
    const listed = new Map(listLakeTables(layout.lake, damaged).map((entry) => [entry.table.name, entry]));
    // A table whose manifest cannot be read is shown as its folder tells (a source's table, not a
    // mart), with the files in it; its glob is unknown, so every file of the folder.
    for (const { dir } of damaged) {
      const table = { ...tableOfFolder(layout.lake, dir), files: '' };
      if (!listed.has(table.name)) listed.set(table.name, { dir, table });
    }
    let project: Project | undefined;
    let projectError: unknown;
    try {
      project = openProject(config, options.vars).project;
      warnOnce(project.warnings);
    } catch (error) {
      projectError = error;
    }
    const tables = new Map<string, CatalogTableDetail>();
    const unavailable = db.unavailable();
    for (const name of [...db.viewNames(), ...unavailable.keys()].sort())
      tables.set(name, await describe(db, name, listed.get(name), unavailable.get(name)));
    // A source table's description, columns and tests from a properties file's sources:, kept as a model's.
    const declared = sourceTableConfigs(project);
    const configOf = (name: string) => project?.nodes.get(name)?.config ?? declared.get(name);
    for (const [name, entry] of tables) {
      const node = project?.nodes.get(name);
      if (node) {
        // A mart is the model's or the seed's (a log table left under a model's name stays logs).
        if (entry.kind === 'model') entry.kind = node.kind;
        entry.materialized = node.kind === 'seed' ? 'seed' : node.config.materialized;
        entry.owner = node.config.owner ?? null;
      }
      // dbt describes a source as well as each of its tables; its tables show it, as dbt's docs do.
      const schema = name.split('.')[0] ?? name;
      if (entry.kind === 'source_table')
        entry.source = { name: schema, description: sourceDescription(project, schema) ?? null };
      const config = configOf(name);
      if (!config) continue;
      // The YAML says it now; a manifest's is what the last build or sync wrote (a database's comment).
      // A model's or seed's manifest holds only what its YAML said then: a description since deleted
      // from the YAML stayed shown, and counted as written by inlet docs check, until a rebuild.
      entry.description = config.description ?? (node ? null : entry.description);
      entry.tests = testNames(config);
    }
    const own = new Map<string, Map<string, string>>();
    for (const name of tables.keys()) {
      const config = configOf(name);
      own.set(
        name,
        byColumn({
          ...(name === 'events' ? EVENT_COLUMN_DESCRIPTIONS : {}),
          ...(project?.nodes.has(name) ? {} : listed.get(name)?.table.columns),
          ...(config ? columnDescriptions(config) : {}),
        }),
      );
    }
    resolveDescriptions(tables, own);
    return {
      tables,
      own,
      project,
      projectError,
      sources: [...config.sources.map((s) => s.name), ...config.sourcesLeftOut],
      logWriters: logTableSources(config),
      db,
    };
  };

  /** The lineage of a look, with what each model's SQL reads (parsed only when lineage is asked for). */
  const lineageOf = async (snap: Snapshot) =>
    buildLineage(
      snap.tables,
      snap.project,
      snap.sources,
      await sqlInputs(snap.db, snap.project, config.timezone),
      snap.logWriters,
    );

  /** A look for showing the lake: without the project, when it cannot be read, said in the log. */
  const lakeSnapshot = async (): Promise<Snapshot> => {
    const snap = await snapshot();
    if (snap.projectError)
      logger.warn(
        errorFields(snap.projectError),
        'the models project could not be read; the catalog shows the lake only',
      );
    return snap;
  };

  return {
    tables: () =>
      serial(async () => {
        const snap = await lakeSnapshot();
        const built = [...snap.tables.values()];
        // Lineage parses each model's SQL; a project whose models are all built needs none of it.
        const unbuilt = [...(snap.project?.nodes.keys() ?? [])].some((name) => !snap.tables.has(name));
        if (!unbuilt) return built.map(summary);
        const notBuilt = await notBuiltDetails(snap, await lineageOf(snap), config.timezone, describing);
        return [...built, ...notBuilt].sort((a, b) => byName(a.name, b.name)).map(summary);
      }),
    table: (typed) =>
      serial(async () => {
        const snap = await lakeSnapshot();
        const name = withoutProject(typed, snap.project?.name);
        // DuckDB's qualified main.events (SHOW ALL TABLES, a query's FROM) is the table events.
        const asked = dbtTableName(name.replace(/^main\./i, ''), snap.project);
        // dbt's source:crm names a source: it is pointed to, with its tables.
        if (asked === undefined)
          throw sourceNamedAsTable(
            name,
            catalogSource(config, snap.project, [...snap.tables.values()], name),
          );
        const entry = snap.tables.get(asked) ?? snap.tables.get(asked.toLowerCase());
        const lineage = await lineageOf(snap);
        if (!entry) {
          // A model of the project not built yet has a page as in dbt's docs, not "no such table".
          const nodes = snap.project?.nodes;
          const node = nodes?.get(asked) ?? nodes?.get(asked.toLowerCase());
          // Described with those not built yet it reads: it may take on their columns and descriptions.
          const page =
            node &&
            (await notBuiltDetails(snap, lineage, config.timezone, { ...describing, only: node.name })).find(
              (detail) => detail.name === node.name,
            );
          if (!page)
            throw (
              notSyncedYet(config, asked) ??
              unknownTable(
                name,
                [...snap.tables.keys()],
                [...(nodes?.keys() ?? [])].filter((n) => !snap.tables.has(n)).sort(),
                snap.projectError,
              )
            );
          return page;
        }
        return {
          ...entry,
          upstream: lineage.upstream(entry.name),
          downstream: lineage.downstream(entry.name),
        };
      }),
    source: (name) =>
      serial(async () => {
        const snap = await lakeSnapshot();
        const tables = [...snap.tables.values()].map(summary);
        return catalogSource(config, snap.project, tables, withoutProject(name, snap.project?.name));
      }),
    lineage: () =>
      serial(async () => {
        const snap = await lakeSnapshot();
        const { nodes, edges } = await lineageOf(snap);
        return { nodes, edges };
      }),
    docsCheck: () =>
      serial(async () => {
        const snap = await snapshot();
        // Checked without its project, every mart would look undocumented (or fine) for no reason.
        if (snap.projectError) throw snap.projectError;
        // A model not built yet is checked by the columns its SQL outputs, as DuckDB describes it.
        const notBuilt = await notBuiltDetails(snap, await lineageOf(snap), config.timezone, describing);
        return docsGaps([...snap.tables.values(), ...notBuilt], snap.project);
      }),
    close() {
      // An engine that failed to open has nothing to close; its rejection must not end the process.
      engine?.then((db) => db.close()).catch(() => undefined);
      engine = undefined;
    },
  };
}

/**
 * A table's name in the lake for one named as dbt's selectors do (source:raw_crm.clients, by its
 * source's and its own names in a properties file), the name itself for any other, and undefined
 * for a source without a table (source:crm, source:crm.*).
 */
function dbtTableName(name: string, project: Project | undefined): string | undefined {
  const found = /^source:([^.]+)(?:\.(.+))?$/.exec(name);
  if (!found) return name;
  const [, source = '', table] = found;
  if (table === undefined || table === '*') return undefined;
  const declared = project?.sources.get(source);
  return declared?.tables.get(table)?.name ?? `${declared?.lake ?? source}.${table}`;
}

/** A table without the detail fields, for lists. */
function summary(entry: CatalogTableDetail): CatalogTable {
  const { partition_list: _p, sql: _s, tests: _t, upstream: _u, downstream: _d, ...rest } = entry;
  return rest;
}

/** The first of a list of names, for a message: at most 20, then how many more. */
const firstNames = (names: string[]) =>
  `${names.slice(0, 20).join(', ')}${names.length > 20 ? ` and ${names.length - 20} more` : ''}`;

/** The error for a name that is neither a table of the lake nor a model of the project, naming those there are. */
function unknownTable(
  name: string,
  known: string[],
  notBuilt: string[],
  /** Why the project could not be read: its models not built yet are not known, so the name may be one. */
  projectError?: unknown,
): InletError {
  const tables = known.length > 0 ? `the lake has ${firstNames(known)}` : 'the lake has no tables yet';
  const models = notBuilt.length > 0 ? `; not built yet: ${firstNames(notBuilt)}` : '';
  const unread =
    projectError === undefined
      ? ''
      : `; the models project could not be read, so a model not built yet cannot be shown; fix this first: ${(projectError as Error).message}`;
  return new InletError(
    'NOT_FOUND',
    `No table, view or model named "${name}"; ${tables}${models} (inlet catalog lists the tables, inlet ls the models)${unread}`,
  );
}
