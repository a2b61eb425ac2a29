/** @module lake: the Parquet lake layout, the WAL → Parquet loader and per-partition compaction. */
export { compactPartition, MAX_MERGE_FILES, recoverCompaction } from './compactor.ts';
export { copyByDay, DAYS_PER_COPY } from './copy-by-day.ts';
export {
  DAMAGED_INSIDE,
  damagedFileMessage,
  damagedInside,
  failsParquetFraming,
  type MovedFile,
  moveDamagedFile,
  moveDamagedInside,
  NO_PERMISSION,
  noPermissionAdvice,
} from './damaged.ts';
export { loaderLagSeconds, type SegmentLoadResult, walReadSql } from './event-loader.ts';
export {
  eventFiles,
  lakeEntries,
  linkedFiles,
  linkedFileWarning,
  parquetLinks,
  partitionFiles,
  partitions,
  publish,
  syncPath,
} from './files.ts';
export { moveForeignEventFiles } from './foreign.ts';
export {
  type DataLayout,
  dataDirUnusable,
  dataLayout,
  fileInTheWay,
  makeDataFolders,
  makeFolder,
  sqlString,
} from './layout.ts';
export { createLoader, defaultLoaderThreads, type Loader, loadGroups } from './loader.ts';
export { createPeriodicLoad, type PeriodicLoad } from './periodic-load.ts';
export { createReadLeases, type ReadLeases } from './read-leases.ts';
export {
  type DamagedManifest,
  hasParquetFiles,
  type LakeTable,
  listLakeTables,
  MERGE_FILE_COLUMN,
  mergeOrderSql,
  readLakeTable,
  TABLE_MANIFEST,
  tableOfFolder,
  writeLakeTable,
} from './tables.ts';
