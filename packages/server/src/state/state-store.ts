import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
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

/** Opens data/state.sqlite (WAL mode, so several inlet processes can share it) and migrates it. */
export function openStateStore(path: string): StateStore {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path) as unknown as SqlDatabase & { pragma(sql: string): unknown };
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 10000');
  db.pragma('synchronous = FULL');
  db.exec(
    'CREATE TABLE IF NOT EXISTS _migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
  );
  const applied = new Set(
    (db.prepare('SELECT id FROM _migrations').all() as Array<{ id: number }>).map((r) => r.id),
  );
  const apply = db.transaction((migration: (typeof MIGRATIONS)[number]) => {
    db.exec(migration.sql);
    db.prepare('INSERT INTO _migrations (id, name, applied_at) VALUES (?, ?, ?)').run(
      migration.id,
      migration.name,
      new Date().toISOString(),
    );
  });
  for (const migration of MIGRATIONS) {
    if (applied.has(migration.id)) continue;
    try {
      apply(migration);
    } catch (error) {
      // Another process sharing the store applied it first.
      if (!String(error).includes('already exists')) throw error;
    }
  }
  const get = db.prepare('SELECT value FROM checkpoints WHERE scope = ? AND key = ?');
  const set = db.prepare(
    'INSERT INTO checkpoints (scope, key, value, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
  );
  const remove = db.prepare('DELETE FROM checkpoints WHERE scope = ? AND key = ?');
  return {
    db,
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
