// Refusing, before DuckDB reads them, files it would read wrong: JSON nested too deep, skip: that
// leaves nothing, a header with a NUL byte, a header split by another delimiter than the table's.
import { basename } from 'node:path';
import { InletError } from '../../errors/index.ts';
import { linesWhenSkipLeavesNothing } from './csv-blank-files.ts';
import type { CsvTable } from './csv-config.ts';
import type { CsvBatch, CsvJobContext } from './csv-job-context.ts';
import { NOTHING_IMPORTED } from './csv-refusals.ts';
import { firstRecordFields, headerWithNul } from './csv-shape.ts';
import { csvDelimiter } from './csv-type-mapping.ts';
import { type LineOf, MAX_JSON_DEPTH, refusedJson } from './json-refusals.ts';
import { scanJsonExport } from './json-scan.ts';

/** Refuses a readable file DuckDB would read wrong or refuse in its own words. */
export async function checkReadable(job: CsvJobContext, batch: CsvBatch, lineOf: LineOf): Promise<void> {
  const { table, where, configFile, delimited } = job;
  const { readable, todo } = batch;
  if (!delimited)
    for (const [i, path] of readable.entries()) {
      const lines = table.format === 'ndjson';
      const found = await scanJsonExport(path, { maxDepth: MAX_JSON_DEPTH, lines });
      if (!found) continue;
      const line = await lineOf(i, found.line);
      throw refusedJson(where, basename(todo[i]?.path ?? ''), { ...found, line }, lines);
    }
  if (delimited && table.skip > 0)
    for (const [i, path] of readable.entries()) {
      const lines = linesWhenSkipLeavesNothing(path, table.skip);
      if (lines === undefined) continue;
      const file = basename(todo[i]?.path ?? '');
      throw new InletError(
        'SOURCE_DATA_INVALID',
        (lines > table.skip
          ? `${where}: the lines of ${file} after the ${table.skip} that skip: passes over are blank, so nothing is left to read; `
          : `${where}: ${file} has only ${lines} line${lines === 1 ? '' : 's'} and skip: is ${table.skip}, so nothing is left to read; `) +
          `skip: counts the lines above the ${table.header ? 'header' : 'first row'}: set it to that number for this table in ${configFile} (docs/csv.md). ${NOTHING_IMPORTED}`,
      );
    }
  if (delimited && table.header)
    for (const [i, path] of readable.entries()) {
      const header = headerWithNul(path, table.skip);
      if (header === undefined) continue;
      throw new InletError(
        'SOURCE_DATA_INVALID',
        `${where}: the header of ${basename(todo[i]?.path ?? '')} holds a NUL byte (${JSON.stringify(header)}), which would cut a column's name short; ` +
          `remove it from the header (tr -d '\\000' does it for a whole file). ${NOTHING_IMPORTED}`,
      );
    }
  if (delimited && table.delimiter === undefined && table.header)
    for (const [i, path] of readable.entries()) {
      const found = otherDelimiter(path, table);
      if (!found) continue;
      const file = basename(todo[i]?.path ?? '');
      // Setting delimiter: would break the files of the table that are split as they should be.
      const fine = readable.findIndex((other, j) => j !== i && !otherDelimiter(other, table));
      const [said, quoted] = [csvDelimiter(table), JSON.stringify(found)];
      throw new InletError(
        'SOURCE_DATA_INVALID',
        `${where}: the header of ${file} holds no "${said}" but is split into columns by ${quoted}; ` +
          (fine === -1
            ? `set delimiter: ${quoted} for this table in ${configFile} (docs/csv.md), or delimiter: "${said}" for a file of one column. ${NOTHING_IMPORTED}`
            : `${basename(todo[fine]?.path ?? '')} of the same table is split by "${said}", and the files of a table share one delimiter: ` +
              `export ${file} split by "${said}", or give the files split by ${quoted} a table of their own, with a path: that matches them only (docs/csv.md). ${NOTHING_IMPORTED}`),
      );
    }
}

/**
 * The delimiter a file's header is split by when the table's default is not in it: a European
 * Excel export (;) or a tab-separated file named .csv read as one column, every line one value.
 */
function otherDelimiter(path: string, table: CsvTable): string | undefined {
  const fields = (delimiter: string) => firstRecordFields(path, { delimiter, skip: table.skip });
  if (fields(csvDelimiter(table)) !== 1) return undefined;
  return [';', '\t', '|', ','].find((d) => d !== csvDelimiter(table) && (fields(d) ?? 0) > 1);
}
