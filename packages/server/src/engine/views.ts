import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { EVENT_COLUMNS } from '../events/index.ts';
import {
  type DataLayout,
  hasParquetFiles,
  type LakeTable,
  listLakeTables,
  sqlString,
  walReadSql,
} from '../lake/index.ts';

export interface ViewDefinition {
  /** The view's name, possibly schema-qualified. */
  name: string;
  /** Changes whenever the SQL must be rebuilt. */
  shape: string;
  sql: string;
}

const quoteName = (name: string) =>
  name
    .split('.')
    .map((part) => `"${part.replaceAll('"', '""')}"`)
    .join('.');

function hasSegments(dir: string): boolean {
  return existsSync(dir) && readdirSync(dir).some((name) => name.endsWith('.log'));
}

const EMPTY_EVENTS = `SELECT ${EVENT_COLUMNS.map(([name, type]) => `NULL::${type} AS "${name}"`).join(', ')} WHERE false`;

/**
 * The events view over the Parquet lake and the WAL segments not loaded yet. DuckDB fails on a
 * glob that matches nothing, so each half is only referenced once files exist.
 */
export function eventsView(layout: DataLayout): ViewDefinition {
  const lake = hasParquetFiles(layout.events);
  const wal = hasSegments(layout.walEvents);
  const lakeSql = lake
    ? `SELECT * REPLACE (properties::JSON AS properties, context::JSON AS context) FROM read_parquet(${sqlString(join(layout.events, '*', '*.parquet'))}, hive_partitioning=true, hive_types={'dt': 'DATE'}, union_by_name=true)`
    : EMPTY_EVENTS;
  let sql = lakeSql;
  if (wal) {
    // Rows still in the WAL, once each, minus any the lake already holds (a segment loaded but not yet
    // deleted, or a client retry whose first copy was loaded earlier).
    const walSql = walReadSql(join(layout.walEvents, '*.log'), true);
    sql =
      `WITH lake AS (${lakeSql}), wal AS (SELECT * FROM (${walSql}) QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY received_at) = 1) ` +
      'SELECT * FROM lake UNION ALL BY NAME SELECT * FROM wal WHERE NOT EXISTS (SELECT 1 FROM lake WHERE lake.event_id = wal.event_id ' +
      'AND lake.received_at >= (SELECT min(received_at) FROM wal) - INTERVAL 48 HOUR)';
  }
  return { name: 'events', shape: `${lake}:${wal}`, sql };
}

/** The SELECT that reads one manifest-described table. */
export function lakeTableSql(dir: string, table: LakeTable): string {
  const options = table.hive_partitioning
    ? ", hive_partitioning=true, hive_types={'dt': 'DATE'}"
    : ', hive_partitioning=false';
  const base = `SELECT * FROM read_parquet(${sqlString(join(dir, table.files))}${options}, union_by_name=true)`;
  if (!table.merge) return base;
  const key = table.merge.key.map((k) => quoteName(k)).join(', ');
  const latest = `${base} QUALIFY row_number() OVER (PARTITION BY ${key} ORDER BY ${quoteName(table.merge.order_by)} DESC) = 1`;
  return table.merge.deleted_column
    ? `SELECT * FROM (${latest}) WHERE ${quoteName(table.merge.deleted_column)} IS NULL`
    : latest;
}

/** Every view the engine should have now: events, and each lake table that has files. */
export function discoverViews(layout: DataLayout): ViewDefinition[] {
  const views = [eventsView(layout)];
  for (const { dir, table } of listLakeTables(layout.lake)) {
    if (!hasParquetFiles(dir)) continue;
    const sql = lakeTableSql(dir, table);
    views.push({ name: table.name, shape: sql, sql });
  }
  return views;
}

/** The statements that bring the engine's views from `before` to `after`. */
export function viewStatements(before: Map<string, string>, after: ViewDefinition[]): string[] {
  const statements: string[] = [];
  const names = new Set(after.map((v) => v.name));
  for (const name of before.keys())
    if (!names.has(name)) statements.push(`DROP VIEW IF EXISTS ${quoteName(name)}`);
  for (const view of after) {
    if (before.get(view.name) === view.shape) continue;
    const schema = view.name.includes('.') ? view.name.split('.')[0] : undefined;
    if (schema) statements.push(`CREATE SCHEMA IF NOT EXISTS ${quoteName(schema)}`);
    statements.push(`CREATE OR REPLACE VIEW ${quoteName(view.name)} AS ${view.sql}`);
  }
  return statements;
}
