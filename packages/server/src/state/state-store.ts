import { accessSync, constants, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
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

/** Whether this user may write the store and the folder beside it (where SQLite keeps its -wal and -shm). */
function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    accessSync(dirname(path), constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Opens an existing state store to read it: as openStateStore does where this user may write it, and
 * read-only where not (a read-only mount, files of another user), which openStateStore failed for, as
 * it migrates. readOnly says which; a read-only store whose schema is older than this inlet's is refused.
 */
export function openStateStoreToRead(path: string): { store: StateStore; readOnly: boolean } {
  if (writable(path)) return { store: openStateStore(path), readOnly: false };
  let db: Database.Database | undefined;
  let copy: string | undefined;
  try {
    try {
      db = new Database(path, { readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
      db.prepare('SELECT 1 FROM sqlite_schema').get();
    } catch (error) {
      // A store in WAL mode is read through its -shm file, which a reader makes when no writer has:
      // in a folder it may not write, it reads a copy (and its -wal) instead.
      if (!(error as { code?: string }).code?.startsWith('SQLITE_READONLY')) throw error;
      db?.close();
      copy = copiedStore(path);
      db = new Database(join(copy, 'state.sqlite'), { fileMustExist: true });
    }
    const missing = missingMigrations(db);
    if (missing.length > 0)
      throw new InletError(
        'DATA_DIR_UNUSABLE',
        `${path} was made by an older inlet (its schema lacks ${missing.map((name) => `"${name}"`).join(', ')}), and this user may not write it; run inlet start once (with write access) to migrate it, then read it again.`,
      );
  } catch (error) {
    db?.close();
    if (copy) rmSync(copy, { recursive: true, force: true });
    throw unusableStore(path, error);
  }
  const store = storeOver(db);
  const temporary = copy;
  return {
    store: {
      ...store,
      close() {
        store.close();
        if (temporary) rmSync(temporary, { recursive: true, force: true });
      },
    },
    readOnly: true,
  };
}

/**
 * A temporary folder holding a copy of the store at path (and its -wal), as state.sqlite; what stops
 * it (a TMPDIR this user may not write, a full /tmp) said as such.
 */
function copiedStore(path: string): string {
  let folder: string | undefined;
  try {
    folder = mkdtempSync(join(tmpdir(), 'inlet-state-'));
    const copied = join(folder, 'state.sqlite');
    copyFileSync(path, copied);
    if (existsSync(`${path}-wal`)) copyFileSync(`${path}-wal`, `${copied}-wal`);
    return folder;
  } catch (error) {
    if (folder) rmSync(folder, { recursive: true, force: true });
    throw new InletError(
      'DATA_DIR_UNUSABLE',
      `${path} can be read only as a copy, as this user may not write beside it (where SQLite keeps its -shm file), and copying it to ${tmpdir()} failed (${(error as Error).message}); give this user write access to ${dirname(path)}, or a TMPDIR it may write with room for the copy.`,
      { cause: error },
    );
  }
}

/** The migrations this inlet has that the store has not had, by name. */
function missingMigrations(db: Database.Database): string[] {
  const table = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = '_migrations'").get();
  const applied = new Set(
    table ? (db.prepare('SELECT id FROM _migrations').all() as Array<{ id: number }>).map((r) => r.id) : [],
  );
  return MIGRATIONS.filter((m) => !applied.has(m.id)).map((m) => m.name);
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
