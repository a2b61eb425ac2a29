import type { CatalogTable } from '../catalog/index.ts';
import { openCatalog } from './catalog-open.ts';
import { type Command, commandArgs, outputFormat } from './command.ts';
import { ExitCode } from './exit-codes.ts';
import { renderRows, renderTableToFit } from './output.ts';
import { varsHelp, varsOption } from './vars-option.ts';

export const catalogHelp = `inlet catalog [table] [--format table|json|csv] [--vars '{name: value}']
  Lists every table and view (events, access logs, sources, marts) with rows, size, partitions,
  last update and description (and why a table cannot be queried, when it cannot); with a table name, its columns, tests and lineage (as CSV: its
  columns, with their types and descriptions).
  ${varsHelp}`;

const size = (bytes: number) =>
  bytes < 1024
    ? `${bytes} B`
    : bytes < 1024 ** 2
      ? `${(bytes / 1024).toFixed(1)} KB`
      : bytes < 1024 ** 3
        ? `${(bytes / 1024 ** 2).toFixed(1)} MB`
        : `${(bytes / 1024 ** 3).toFixed(2)} GB`;

const row = (t: CatalogTable) => [
  t.name,
  t.kind,
  t.materialized ?? null,
  t.rows,
  size(t.bytes),
  t.partitions.count > 0 ? `${t.partitions.count} (${t.partitions.first} … ${t.partitions.last})` : null,
  t.updated_at,
  t.description,
  t.unavailable ?? null,
];

/** inlet catalog: the same catalog as GET /api/catalog, opened in this process. */
export const catalogCommand: Command = async (args, config, logger, output) => {
  const { values, positionals } = commandArgs(args, { format: { type: 'string' }, ...varsOption });
  const format = outputFormat(values.format, output);
  const catalog = openCatalog(
    { vars: values.vars, usable: format !== undefined && positionals.length <= 1, help: catalogHelp },
    config,
    logger,
    output,
  );
  if (!format || !catalog) return ExitCode.USAGE;
  try {
    const name = positionals[0];
    if (!name) {
      const columns = [
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
      output.out(renderRows(format, columns, (await catalog.tables()).map(row), output.columns));
      return ExitCode.OK;
    }
    const table = await catalog.table(name);
    if (format === 'json') {
      output.out(`${JSON.stringify(table)}\n`);
      return ExitCode.OK;
    }
    // A table has one row per column: what a spreadsheet of one table's documentation holds.
    if (format === 'csv') {
      output.out(
        renderRows(
          'csv',
          ['column', 'type', 'description', 'description_from'],
          table.columns.map((c) => [c.name, c.type, c.description, c.description_from ?? null]),
        ),
      );
      return ExitCode.OK;
    }
    const [, kind, materialized, rows, bytes, partitions, updated] = row(table);
    output.out(
      [
        `${table.name} (${[kind, materialized].filter(Boolean).join(', ')})`,
        table.description ? `  ${table.description}` : '  (no description)',
        ...(table.source?.description ? [`  source ${table.source.name}: ${table.source.description}`] : []),
        ...(table.unavailable ? [`  UNAVAILABLE: ${table.unavailable}`] : []),
        `  rows ${rows ?? '-'} · ${bytes} · partitions ${partitions ?? '-'} · updated ${updated ?? '-'}${table.owner ? ` · owner ${table.owner}` : ''}`,
        `  upstream: ${table.upstream.join(', ') || '-'}`,
        `  downstream: ${table.downstream.join(', ') || '-'}`,
        `  tests: ${table.tests.join(', ') || '-'}`,
        '',
        '',
      ].join('\n') +
        renderTableToFit(
          ['column', 'type', 'description'],
          table.columns.map((c) => [
            c.name,
            c.type,
            c.description
              ? `${c.description}${c.description_from ? ` (from ${c.description_from})` : ''}`
              : null,
          ]),
          output.columns,
          80,
        ),
    );
    return ExitCode.OK;
  } finally {
    catalog.close();
  }
};
