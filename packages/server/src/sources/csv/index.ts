/** @module sources/csv: CSV, TSV and JSON file exports (UTF-8, Shift_JIS…) imported into the lake. */
import type { SourceKind } from '../types.ts';
import { csvOptionsSchema } from './csv-config.ts';
import { createCsvSource } from './csv-source.ts';

export { type CsvOptions, csvOptionsSchema } from './csv-config.ts';
export { NOTHING_IMPORTED } from './csv-refusals.ts';
export { createCsvSource } from './csv-source.ts';
export { formatOf, readSql } from './csv-type-mapping.ts';

export const csvKind: SourceKind<typeof csvOptionsSchema> = {
  options: csvOptionsSchema,
  create: createCsvSource,
};
