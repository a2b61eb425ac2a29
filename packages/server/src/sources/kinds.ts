import { csvKind } from './csv/index.ts';
import { fileKind } from './file-log/index.ts';
import { mysqlKind } from './mysql/index.ts';
import { postgresKind } from './postgres/index.ts';
import type { SourceKind } from './types.ts';

/**
 * Every kind of source inlet knows, by the `type:` users write in inlet.yaml. Each kind lives in
 * its own folder (sources/<kind>/) with the same file set, and is added here with one line.
 */
export const SOURCE_KINDS: Record<string, SourceKind> = {
  csv: csvKind,
  file: fileKind,
  mysql: mysqlKind,
  postgres: postgresKind,
};
