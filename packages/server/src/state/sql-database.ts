// The small part of a SQLite client that inlet uses, declared here so the rest of the code does not
// depend on better-sqlite3's types (and a PostgreSQL-backed store can implement the same shape).

export interface SqlStatement {
  run(...params: unknown[]): { changes: number; lastInsertRowid: number | bigint };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}

export interface SqlDatabase {
  prepare(sql: string): SqlStatement;
  exec(sql: string): void;
  /** Wraps fn so it runs in one transaction. */
  transaction<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R;
  close(): void;
}
