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
  {
    id: 20,
    name: 'scheduler: workflow runs and their steps',
    // UNIQUE (workflow, scheduled_for) is what lets a scheduled time run at most once, however many
    // schedulers share this store; manual runs have no scheduled time (NULLs never collide).
    sql: `CREATE TABLE workflow_runs (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      workflow TEXT NOT NULL,
      scheduled_for TEXT,
      trigger TEXT NOT NULL,
      status TEXT NOT NULL,
      owner TEXT NOT NULL,
      created_at TEXT NOT NULL,
      started_at TEXT,
      finished_at TEXT,
      duration_ms INTEGER,
      heartbeat_at TEXT,
      error TEXT,
      UNIQUE (workflow, scheduled_for)
    );
    CREATE INDEX workflow_runs_by_time ON workflow_runs (created_at);
    CREATE TABLE workflow_run_steps (
      run_id INTEGER NOT NULL REFERENCES workflow_runs (id),
      position INTEGER NOT NULL,
      step TEXT NOT NULL,
      status TEXT NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0,
      started_at TEXT,
      finished_at TEXT,
      duration_ms INTEGER,
      log TEXT NOT NULL DEFAULT '',
      error TEXT,
      PRIMARY KEY (run_id, position)
    )`,
  },
  {
    id: 21,
    name: 'scheduler: abandoned runs counted on /metrics',
    // Whichever process marks a run abandoned (inlet runs, the API), a scheduler counts it once.
    // Runs abandoned before this migration are not counted: a counter would jump at the upgrade.
    sql: `ALTER TABLE workflow_runs ADD COLUMN abandoned_counted INTEGER NOT NULL DEFAULT 0;
    UPDATE workflow_runs SET abandoned_counted = 1 WHERE status = 'abandoned'`,
  },
  {
    id: 22,
    name: 'scheduler: a note on a run, as of a workflow switched off and started by hand',
    sql: 'ALTER TABLE workflow_runs ADD COLUMN note TEXT',
  },
];
