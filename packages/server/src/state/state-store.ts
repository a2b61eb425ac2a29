import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { InletError } from '../errors/index.ts';
import { MIGRATIONS } from './migrations.ts';
import type { SqlDatabase } from './sql-database.ts';

export interface StateStore {
  db: SqlDatabase;
  /** Reads a JSON checkpoint (a tail offset, a sync cursor); undefined when none was saved. */
  getCheckpoint<T>(scope: string, key: string): T | undefined;
  /** Saves a JSON checkpoint; callers save only after the data it points past is durable. */
  setCheckpoint(scope: string, key: string, value: unknown): void;
  deleteCheckpoint(scope: string, key: string): void;
  close(): void;
}

const BUSY_TIMEOUT_MS = 10_000;

/** Runs work again while SQLite answers SQLITE_BUSY, for up to the busy timeout. */
function untilNotBusy(work: () => void): void {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      work();
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() > deadline) throw error;
      Atomics.wait(pause, 0, 0, 10); // opening the store is synchronous; a 10 ms pause before trying again
    }
  }
}

/** Opens data/state.sqlite (WAL mode, so several inlet processes can share it) and migrates it. */
export function openStateStore(path: string): StateStore {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
    migrate(db);
  } catch (error) {
    db?.close();
    throw unusableStore(path, error);
  }
  return storeOver(db);
}

/** A state store SQLite cannot open, as an error that says what is wrong with the file. */
function unusableStore(path: string, error: unknown): unknown {
  const { code, message } = error as { code?: string; message?: string };
  if (!code?.startsWith('SQLITE_') || code === 'SQLITE_BUSY') return error;
  const advice =
    code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT'
      ? 'restore it from a backup, or move it aside and inlet starts a new one (without its sync cursors and run history)'
      : 'make it a file (or no file at all) that inlet may read and write, in a folder it may write';
  return new InletError(
    'DATA_DIR_UNUSABLE',
    `The state store ${path} cannot be opened (${code}: ${message}); ${advice}.`,
    { cause: error },
  );
}

function migrate(db: Database.Database): void {
  // WAL mode is kept in the file, so only a new store's first open switches it. Two processes that
  // create the store at once (`--role loader` started beside `--role collector`) race for that
  // switch, and SQLite answers the loser SQLITE_BUSY at once instead of waiting, so wait here.
  untilNotBusy(() => {
    if (db.pragma('journal_mode', { simple: true }) !== 'wal') db.pragma('journal_mode = WAL');
  });
  db.pragma('synchronous = FULL');
  db.exec(
    'CREATE TABLE IF NOT EXISTS _migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
  );
  const applied = new Set(
    (db.prepare('SELECT id FROM _migrations').all() as Array<{ id: number }>).map((r) => r.id),
  );
  const isApplied = db.prepare('SELECT 1 FROM _migrations WHERE id = ?');
  const apply = db.transaction((migration: (typeof MIGRATIONS)[number]) => {
    if (isApplied.get(migration.id)) return; // another process sharing the store applied it first
    db.exec(migration.sql);
    db.prepare('INSERT INTO _migrations (id, name, applied_at) VALUES (?, ?, ?)').run(
      migration.id,
      migration.name,
      new Date().toISOString(),
    );
  });
  for (const migration of MIGRATIONS) {
    if (applied.has(migration.id)) continue;
    // BEGIN IMMEDIATE takes the write lock first (waiting up to the busy timeout), so two processes
    // migrating at once apply each migration once, one after the other.
    apply.immediate(migration);
  }
}

function storeOver(db: Database.Database): StateStore {
  const get = db.prepare('SELECT value FROM checkpoints WHERE scope = ? AND key = ?');
  const set = db.prepare(
    'INSERT INTO checkpoints (scope, key, value, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
  );
  const remove = db.prepare('DELETE FROM checkpoints WHERE scope = ? AND key = ?');
  return {
    db: db as unknown as SqlDatabase,
    getCheckpoint<T>(scope: string, key: string) {
      const row = get.get(scope, key) as { value: string } | undefined;
      return row ? (JSON.parse(row.value) as T) : undefined;
    },
    setCheckpoint(scope, key, value) {
      set.run(scope, key, JSON.stringify(value), new Date().toISOString());
    },
    deleteCheckpoint(scope, key) {
      remove.run(scope, key);
    },
    close() {
      db.close();
    },
  };
}
