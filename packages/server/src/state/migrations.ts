/**
 * The state store's schema, one migration an entry, applied in order and never edited once
 * released: add a new entry instead. Each module owns the tables it names here.
 */
export const MIGRATIONS: ReadonlyArray<{ id: number; name: string; sql: string }> = [
  {
    id: 1,
    name: 'key-value checkpoints',
    sql: `CREATE TABLE checkpoints (
      scope TEXT NOT NULL,
      key TEXT NOT NULL,
      value TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      PRIMARY KEY (scope, key)
    )`,
  },
];
