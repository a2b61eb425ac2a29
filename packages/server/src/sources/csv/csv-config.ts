import { z } from 'zod';
import {
  checkModeOptions,
  checkUniqueNames,
  deriveTableName,
  sourceMemoryLimit,
  type TableTarget,
  tableModeFields,
  tableTarget,
} from '../extractor/index.ts';
import { encodingProblem } from './csv-encoding-names.ts';
import { CSV_FORMATS, type CsvFormat, formatOf, LAKE_TYPE } from './csv-type-mapping.ts';

/** One file import: a file (or a * pattern in the file name) read into one lake table. */
export interface CsvTable extends TableTarget {
  path: string;
  format: CsvFormat;
  encoding: string;
  header: boolean;
  delimiter?: string | undefined;
  /** Lines above the header (or the first row) that are not data: a title, an export date. */
  skip: number;
  types?: Record<string, string> | undefined;
}

const baseName = (path: string) => (path.split('/').at(-1) ?? '').replace(/\.[^.]*$/, '');
const nameOf = (entry: { name?: string | undefined; path: string }) =>
  entry.name ?? (/[*?]/.test(entry.path) ? undefined : deriveTableName(baseName(entry.path)));

/**
 * Why a table without name: has none. A pattern has no one file name: "the file name does not make
 * a lake table name" sent a reader of drops/orders_*.csv looking at the characters of orders_.
 */
function unnamedProblem(path: string): string {
  const base = baseName(path);
  // ".csv" said "the file name  makes no lake table name", a blank where the name was.
  if (!/[*?]/.test(path))
    return base.trim() === ''
      ? `"${path.split('/').at(-1)}" has no name before its extension, so makes no lake table name; add name: with lower-case letters, digits and _`
      : `the file name ${base} makes no lake table name; add name: with lower-case letters, digits and _`;
  const like = deriveTableName(base);
  return `"${path}" is a pattern, whose files make one table: name it with name: (lower-case letters, digits and _${like ? `, such as name: ${like}` : ''})`;
}

/**
 * Why path: names no file, when it does not: empty (path: "" said "must not be empty", then "the
 * file name  makes no lake table name" and "cannot tell the format from """), or a directory.
 */
function pathProblem(path: string): string | undefined {
  if (path.trim() === '')
    return 'is empty; path: names a file, such as exports/orders.csv, or the files of a directory with a pattern (and name:) such as exports/*.csv';
  if (path.endsWith('/'))
    return `"${path}" is a directory; path: names a file, or the files of a directory with a pattern (and name:) such as ${path}*.csv`;
  return undefined;
}

/**
 * YAML's { … } ends a value at a comma, so types: { amount: DECIMAL(12,2) } reads as amount:
 * "DECIMAL(12" and a column "2)" with no type. Said as such, rather than as two unrelated faults.
 */
function refuseCutTypes(value: unknown, ctx: z.RefinementCtx): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const entries = Object.entries(value);
  let cut = false;
  entries.forEach(([column, type], i) => {
    if (typeof type !== 'string' || !/\([^)]*$/.test(type)) return;
    const [rest, restType] = entries[i + 1] ?? [];
    const whole =
      rest !== undefined && restType === null && /\)$/.test(rest) ? `${type},${rest}` : `${type},…)`;
    ctx.addIssue({
      code: 'custom',
      path: [column],
      message: `reads as "${type}": in YAML's { … } a comma ends the value; quote the type ("${whole}"), or write types: one column a line`,
    });
    cut = true;
  });
  return cut ? {} : value;
}

/**
 * A delimiter DuckDB cannot split fields by: the quote failed each sync with its binder error
 * ("QUOTE must not appear in the DELIMITER specification"), a line break read each line as one field.
 */
function refuseDelimiter(delimiter: string, ctx: z.RefinementCtx): void {
  const separates = 'give the character that separates the fields, such as ",", ";", "|" or a tab ("\\t")';
  if (delimiter === '"')
    ctx.addIssue({
      code: 'custom',
      message: `cannot be ", which quotes a field that holds the delimiter; ${separates}`,
    });
  if (delimiter === '\n' || delimiter === '\r')
    ctx.addIssue({ code: 'custom', message: `cannot be a line break, which ends a row; ${separates}` });
}

/**
 * A DECIMAL DuckDB cannot make: each sync failed with its binder error ("DECIMAL type width must be
 * between 1 and 38", "scale cannot be greater than width"), which named neither column nor key.
 */
function refuseDecimal(type: string, ctx: z.RefinementCtx): void {
  const decimal = /^\s*(?:DECIMAL|NUMERIC)\s*\((\d+)(?:,\s*(\d+))?\)/i.exec(type);
  if (!decimal) return;
  const width = Number(decimal[1]);
  const scale = Number(decimal[2] ?? 0);
  if (width < 1 || width > 38)
    ctx.addIssue({
      code: 'custom',
      message: `${type} has ${width} digits, and a DECIMAL holds 1 to 38; give 38 or fewer, or VARCHAR to keep every digit as text`,
    });
  else if (scale > width)
    ctx.addIssue({
      code: 'custom',
      message: `${type} has ${scale} digits after the point and ${width} in all; the second number is at most the first, as in DECIMAL(12,2)`,
    });
}

const csvTable = z
  .strictObject({
    path: z.string(),
    format: z.enum(CSV_FORMATS).optional(),
    encoding: z
      .string()
      .superRefine((encoding, ctx) => {
        const problem = encodingProblem(encoding);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .default('utf-8'),
    header: z.boolean().default(true),
    delimiter: z.string().length(1, 'must be one character').superRefine(refuseDelimiter).optional(),
    skip: z.number().int().min(0).default(0),
    types: z
      .preprocess(
        refuseCutTypes,
        z.record(
          z.string(),
          z
            .string()
            .regex(LAKE_TYPE, 'must be a DuckDB type such as VARCHAR, BIGINT or DECIMAL(12,2)')
            .superRefine(refuseDecimal),
        ),
      )
      .optional(),
    ...tableModeFields,
  })
  .superRefine((entry, ctx) => {
    // A path that names no file is said once: the name and format it cannot give follow from it.
    const noFile = pathProblem(entry.path);
    if (noFile) {
      ctx.addIssue({ code: 'custom', path: ['path'], message: noFile });
      return;
    }
    // matchFiles matches the file name only: csv/*/orders.csv said "no file matches" files that are there.
    const dir = entry.path.slice(0, entry.path.lastIndexOf('/') + 1);
    if (/[*?]/.test(dir))
      ctx.addIssue({
        code: 'custom',
        path: ['path'],
        message: `"${entry.path}" has * or ? in a directory (${dir}), and a pattern matches the file names of one directory only; name the directory (exports/2026-12/*.csv), give each directory a table of its own, or gather the files in one directory`,
      });
    if (!nameOf(entry))
      ctx.addIssue({
        code: 'custom',
        path: ['name'],
        message: unnamedProblem(entry.path),
      });
    if (!entry.format && !formatOf(entry.path))
      ctx.addIssue({
        code: 'custom',
        path: ['format'],
        message: /\.gz$/i.test(entry.path)
          ? `"${entry.path}" is compressed with gzip, which a csv source does not read; unpack it (gunzip -k) and point path: at the file that gives`
          : `cannot tell the format from "${entry.path}"; add format: ${CSV_FORMATS.join(' | ')}`,
      });
    if (entry.cursor && entry.mode !== 'merge')
      ctx.addIssue({
        code: 'custom',
        path: ['cursor'],
        message: 'files are imported whole; cursor only orders the versions of a row in mode merge',
      });
    checkModeOptions(entry, ctx, { incrementalNeedsCursor: false });
  })
  .transform(
    (entry): CsvTable => ({
      ...tableTarget({ ...entry, name: nameOf(entry) ?? '' }),
      files: true,
      path: entry.path,
      format: entry.format ?? formatOf(entry.path) ?? 'csv',
      encoding: entry.encoding,
      header: entry.header,
      delimiter: entry.delimiter,
      skip: entry.skip,
      types: entry.types,
    }),
  );

/**
 * Options of a `type: csv` source: `tables`, each a file (or `*` pattern) relative to inlet.yaml
 * with its format, encoding and mode. See docs/csv.md.
 */
export const csvOptionsSchema = z.strictObject({
  tables: z.array(csvTable).min(1).superRefine(checkUniqueNames),
  memory_limit: sourceMemoryLimit,
});

export type CsvOptions = z.output<typeof csvOptionsSchema>;
