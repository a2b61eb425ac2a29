/** @module state: small operational state (checkpoints, cursors, run history) in data/state.sqlite. */
export { MIGRATIONS } from './migrations.ts';
export type { SqlDatabase, SqlStatement } from './sql-database.ts';
export { openStateStore, type StateStore } from './state-store.ts';
