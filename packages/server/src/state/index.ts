/**
 * @module state: small operational state (checkpoints, cursors, run history) in data/state.sqlite,
 * and the lock files that keep processes sharing a data directory from doing the same work twice.
 */
export { createOnce } from './create-once.ts';
export { MIGRATIONS } from './migrations.ts';
export {
  acquireProcessLock,
  describeLockHolder,
  lockHolder,
  type ProcessLock,
  processAlive,
} from './process-lock.ts';
export type { SqlDatabase, SqlStatement } from './sql-database.ts';
export { openStateStore, openStateStoreToRead, type StateStore } from './state-store.ts';
