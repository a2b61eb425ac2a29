/** @module sources: logs, databases and file exports copied into the lake; one folder per kind. */
export { NOTHING_IMPORTED } from './csv/index.ts';
export { SOURCE_KINDS } from './kinds.ts';
export {
  createSources,
  findSource,
  logSourceTables,
  logTableSources,
  nameUsedTwice,
  parseSourceOptions,
  sourceOfTable,
  sourceTableNames,
} from './registry.ts';
export type { Source, SourceContext, SourceKind, SyncResult } from './types.ts';
