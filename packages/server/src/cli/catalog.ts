import type { Catalog, CatalogTable } from '../catalog/index.ts';
import { configFileName, type InletConfig, leftOutSource } from '../config/index.ts';
import { openCatalog } from './catalog-open.ts';
import { beyondUsage, type Command, commandArgs, outputFormat } from './command.ts';
import { ExitCode } from './exit-codes.ts';
import { type Format, type Output, renderRows, renderTableToFit } from './output.ts';
import { varsHelp, varsOption } from './vars-option.ts';

export const catalogHelp = `inlet catalog [table | source:<source>] [--format table|json|csv] [--vars '{name: value}']
  Lists every table and view (events, access logs, sources, marts) with rows, size, partitions,
  last update and description (and why a table cannot be queried, when it cannot), and the
  project's models not built yet (rows: not built yet); as json or csv, bytes, partitions,
  first_partition and last_partition in place of size and partitions' text, and built.
  With a table name, its columns, tests and lineage (as CSV: its
  columns, with their types and descriptions, and columns_note on each when a model not built yet
  has one); a model not built yet has its page too (NOT BUILT YET); with dbt's source:crm, the source's description and its tables.
  ${varsHelp}`;

const size = (bytes: number) =>
  bytes < 1024
    ? `${bytes} B`
    : bytes < 1024 ** 2
      ? `${(bytes / 1024).toFixed(1)} KB`
      : bytes < 1024 ** 3
        ? `${(bytes / 1024 ** 2).toFixed(1)} MB`
        : `${(bytes / 1024 ** 3).toFixed(2)} GB`;

const LIST_COLUMNS = [
  'name',
  'kind',
  'materialized',
  'rows',
  'size',
  'partitions',
  'updated_at',
  'description',
  'unavailable',
];

/** Columns of the list that a source's tables all share: its kind, and no materialization. */
const SAID_BY_SOURCE = new Set(['kind', 'materialized']);

/**
 * A table as a terminal's row: what it lacks (no materialization, partitions, description) shows as
 * -, as the single table's lines do; NULL read as though the catalog had failed to find it.
 */
const row = (t: CatalogTable) =>
  [
    t.name,
    t.kind,
    t.materialized,
    // A model not built yet has no rows to count, where a view's rows are - (not counted).
    t.built ? t.rows : 'not built yet',
    // A model not built yet, or a view (its rows are its SQL's), has no files at all, where a built
    // table's 0 B is an empty one.
    t.built && t.materialized !== 'view' ? size(t.bytes) : null,
    t.partitions.count > 0 ? `${t.partitions.count} (${t.partitions.first} … ${t.partitions.last})` : null,
    t.updated_at,
    t.description || null,
    t.unavailable,
  ].map((cell) => cell ?? '-');

// JSON and CSV are for programs: bytes and partitions as numbers and days, not as a person reads them.
const MACHINE_COLUMNS = [
  'name',
  'kind',
  'materialized',
  'rows',
  'bytes',
  'partitions',
  'first_partition',
  'last_partition',
  'updated_at',
  'description',
  'unavailable',
  'built',
];

const machineRow = (t: CatalogTable) => [
  t.name,
  t.kind,
  t.materialized ?? null,
  t.rows,
  t.bytes,
  t.partitions.count,
  t.partitions.first,
  t.partitions.last,
  t.updated_at,
  t.description,
  t.unavailable ?? null,
  t.built,
];

/** inlet catalog: the same catalog as GET /api/catalog, opened in this process. */
export const catalogCommand: Command = async (args, config, logger, output) => {
  const { values, positionals } = commandArgs(args, { format: { type: 'string' }, ...varsOption });
  const format = outputFormat(values.format, output);
  const name = positionals[0];
  // inlet catalog "$TABLE" with TABLE unset listed every table, as if no name had been given.
  if (name?.trim() === '') {
    output.err(
      `The table name is empty (an unset variable?): name a table, or give none to list them all.\n${catalogHelp}\n`,
    );
    return ExitCode.USAGE;
  }
  if (name !== undefined && /^source:\s*$/.test(name)) {
    output.err(
      `The source's name is empty (an unset variable?): name one, as source:crm, or give none to list every table.\n${catalogHelp}\n`,
    );
    return ExitCode.USAGE;
  }
  const catalog = openCatalog(
    {
      vars: values.vars,
      usable: format !== undefined && positionals.length <= 1,
      why: positionals.length > 1 ? beyondUsage('catalog', 'one table', positionals.slice(1)) : undefined,
      help: catalogHelp,
    },
    config,
    logger,
    output,
  );
  if (!format || !catalog) return ExitCode.USAGE;
  try {
    if (!name) {
      const tables = await catalog.tables();
      output.out(
        format === 'table'
          ? renderRows(format, LIST_COLUMNS, tables.map(row), output.columns)
          : renderRows(format, MACHINE_COLUMNS, tables.map(machineRow)),
      );
      return ExitCode.OK;
    }
    // dbt's source:crm (and source:crm.*, source:<project>.crm.*) is how a dbt user names a source.
    if (/^source:(?:[^.]+(?:\.[^.]+)?\.\*|[^.]+)$/.test(name))
      return await showSource(catalog, name, format, output, config);
    const table = await catalog.table(name);
    if (format === 'json') {
      output.out(`${JSON.stringify(table)}\n`);
      return ExitCode.OK;
    }
    // A table has one row per column: what a spreadsheet of one table's documentation holds. Why a
    // model's columns are only its YAML's, of no type, is on each, under the name the JSON gives it:
    // a reader that keeps some rows keeps it with them.
    if (format === 'csv') {
      const note = table.columns_note ?? null;
      output.out(
        renderRows(
          'csv',
          ['column', 'type', 'description', 'description_from', 'columns_note'],
          table.columns.map((c) => [c.name, c.type, c.description, c.description_from ?? null, note]),
        ),
      );
      // No row to carry it: said as inlet query says why its rows stop short.
      if (note !== null && table.columns.length === 0) output.err(`note: ${note}\n`);
      return ExitCode.OK;
    }
    const [, , , rows, bytes, partitions, updated] = row(table);
    output.out(
      [
        // A seed is materialized as a seed: countries (seed), not (seed, seed).
        `${table.name} (${[...new Set([table.kind, table.materialized])].filter(Boolean).join(', ')})`,
        table.description ? `  ${table.description}` : '  (no description)',
        ...(table.source?.description ? [`  source ${table.source.name}: ${table.source.description}`] : []),
        ...(table.unavailable ? [`  UNAVAILABLE: ${table.unavailable}`] : []),
        table.built
          ? `  rows ${rows} · ${bytes} · partitions ${partitions} · updated ${updated}${table.owner ? ` · owner ${table.owner}` : ''}`
          : `  NOT BUILT YET: no rows and no freshness until inlet run ${table.name} builds it${table.owner ? ` · owner ${table.owner}` : ''}`,
        ...(table.columns_note ? [`  ${table.columns_note}`] : []),
        `  upstream: ${table.upstream.join(', ') || '-'}`,
        `  downstream: ${table.downstream.join(', ') || '-'}`,
        `  tests: ${table.tests.join(', ') || '-'}`,
        // No column to show (its columns cannot be told, and its YAML documents none; a table that
        // cannot be queried): a table's header alone read as a listing that had failed.
        ...(table.columns.length === 0 ? ['  columns: -', ''] : ['', '']),
      ].join('\n') +
        (table.columns.length === 0
          ? ''
          : renderTableToFit(
              ['column', 'type', 'description'],
              table.columns.map((c) => [
                c.name,
                // A model not built yet that reads one not built either: its type cannot be told yet.
                c.type ?? '-',
                // A column no one has described is a gap to read past, not a missing value: NULL
                // read as though the catalog had failed to find it (JSON and CSV keep null).
                c.description
                  ? `${c.description}${c.description_from ? ` (from ${c.description_from})` : ''}`
                  : '-',
              ]),
              output.columns,
              80,
            )),
    );
    return ExitCode.OK;
  } finally {
    catalog.close();
  }
};

/** inlet catalog source:crm: the source's description, then its tables as inlet catalog lists them. */
async function showSource(
  catalog: Catalog,
  name: string,
  format: Format,
  output: Output,
  /** The configuration, whose file may leave the source out for an unset variable. */
  config: Pick<InletConfig, 'configPath' | 'sourcesLeftOutBy'>,
): Promise<ExitCode> {
  const source = await catalog.source(name);
  const leftOut = leftOutSource(configFileName(config), config.sourcesLeftOutBy[source.name]);
  if (format === 'json') {
    output.out(`${JSON.stringify(source)}\n`);
    return ExitCode.OK;
  }
  if (format === 'csv') {
    output.out(renderRows('csv', MACHINE_COLUMNS, source.tables.map(machineRow)));
    return ExitCode.OK;
  }
  const rows = source.tables.map(row);
  const notSynced = source.not_synced?.join(', ');
  output.out(
    [
      `source ${source.name}`,
      source.description ? `  ${source.description}` : '  (no description)',
      ...(notSynced ? [`  not synced yet: ${notSynced} (inlet sync ${source.name} copies them)`] : []),
      ...(source.configured
        ? []
        : [
            `  not configured: ${leftOut.why}, so nothing syncs it and the tables it copies cannot be listed; its tables below are from earlier syncs. To sync it, ${leftOut.set}.`,
          ]),
      '',
      '',
    ].join('\n') +
      (rows.length > 0
        ? renderRows(
            'table',
            LIST_COLUMNS.filter((column) => !SAID_BY_SOURCE.has(column)),
            rows.map((cells) => cells.filter((_cell, i) => !SAID_BY_SOURCE.has(LIST_COLUMNS[i] ?? ''))),
            output.columns,
          )
        : ''),
  );
  return ExitCode.OK;
}
