import { z } from 'zod';
import {
  checkModeOptions,
  checkUniqueNames,
  deriveTableName,
  type TableTarget,
  tableModeFields,
  tableTarget,
} from './table-options.ts';

/** One table of a database source: a table to copy, or a query whose rows become the table. */
export interface DatabaseTable extends TableTarget {
  /** schema.table (or table) exactly as the database spells it. */
  table?: string | undefined;
  query?: string | undefined;
}

const nameOf = (entry: { name?: string | undefined; table?: string | undefined }) =>
  entry.name ?? (entry.table ? deriveTableName(entry.table.split('.').at(-1) ?? '') : undefined);

const databaseTable = z
  .strictObject({
    table: z.string().min(1).optional(),
    query: z.string().min(1).optional(),
    ...tableModeFields,
  })
  .superRefine((entry, ctx) => {
    if (!entry.table === !entry.query)
      ctx.addIssue({ code: 'custom', path: ['table'], message: 'give either table or query, not both' });
    else if (!nameOf(entry))
      ctx.addIssue({
        code: 'custom',
        path: ['name'],
        message: entry.query
          ? 'a query needs a name for its table in the lake'
          : `"${entry.table}" does not make a lake table name; add name: with lower-case letters, digits and _`,
      });
    checkModeOptions(entry, ctx);
  })
  .transform(
    (entry): DatabaseTable => ({
      ...tableTarget({ ...entry, name: nameOf(entry) ?? '' }),
      table: entry.table,
      // Ends with a line break: inlet wraps it in SELECT * FROM (…) AS q, and a comment on its last
      // line (-- or #) swallowed the closing part.
      query: entry.query === undefined ? undefined : `${entry.query.trim().replace(/;+\s*$/, '')}\n`,
    }),
  );

/**
 * The memory of the DuckDB that writes a source's Parquet (and compacts its increments). Its default
 * holds tables of a few hundred columns; a CSV export of thousands needs more (docs/csv.md).
 */
export const sourceMemoryLimit = z
  .string()
  .refine((value) => sizeBytes(value) !== undefined, 'must be a size such as 512MB or 2GB')
  // Below this DuckDB cannot even take its first block: every copy would fail.
  .refine(
    (value) => (sizeBytes(value) ?? Number.POSITIVE_INFINITY) >= 64 * 1000 ** 2,
    'must be at least 64MB',
  )
  .default('192MB');

const UNITS: Record<string, number> = {
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/** Bytes of a size as DuckDB writes it (512MB, 1.5GiB), or undefined when it is not one. */
function sizeBytes(value: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*([kmgt]i?b)$/i.exec(value.trim());
  const unit = match && UNITS[(match[2] ?? '').toLowerCase()];
  return match && unit ? Number(match[1]) * unit : undefined;
}

/** The options PostgreSQL and MySQL share; each kind adds its URL scheme check. */
export function databaseOptionsSchema(url: { schemes: string[]; example: string }) {
  return z.strictObject({
    url: z.string().refine((value) => url.schemes.some((scheme) => value.startsWith(`${scheme}://`)), {
      message: `must be a connection URL such as ${url.example}, usually from an environment variable`,
    }),
    tables: z.array(databaseTable).min(1).superRefine(checkUniqueNames),
    /** Every statement inlet runs on the source is stopped after this long. */
    statement_timeout_ms: z
      .number()
      .int()
      .positive()
      .default(60 * 60 * 1000),
    /** Rows are written to Parquet in parts of about this much source data (the spool on disk, not memory). */
    part_size_mb: z.number().int().min(1).max(4096).default(128),
    memory_limit: sourceMemoryLimit,
  });
}

export type DatabaseOptions = z.output<ReturnType<typeof databaseOptionsSchema>>;
