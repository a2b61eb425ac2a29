import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { EVENT_COLUMNS } from '../events/index.ts';
import { type DataLayout, sqlString, walReadSql } from '../lake/index.ts';

function hasParquet(tableDir: string): boolean {
  if (!existsSync(tableDir)) return false;
  for (const partition of readdirSync(tableDir)) {
    if (!partition.startsWith('dt=')) continue;
    try {
      if (
        readdirSync(join(tableDir, partition)).some(
          (name) => name.endsWith('.parquet') && !name.startsWith('.'),
        )
      )
        return true;
    } catch {
      // A partition removed by retention between the two listings.
    }
  }
  return false;
}

function hasSegments(dir: string): boolean {
  return existsSync(dir) && readdirSync(dir).some((name) => name.endsWith('.log'));
}

const EMPTY_EVENTS = `SELECT ${EVENT_COLUMNS.map(([name, type]) => `NULL::${type} AS "${name}"`).join(', ')} WHERE false`;

/**
 * The events view over the Parquet lake and the WAL segments not loaded yet. DuckDB fails on a
 * glob that matches nothing, so each half is only referenced once files exist; `shape` names
 * which halves are present so the view is rebuilt only when that changes.
 */
export function eventsViewSql(layout: DataLayout): { shape: string; sql: string } {
  const lake = hasParquet(layout.events);
  const wal = hasSegments(layout.walEvents);
  const lakeSql = lake
    ? `SELECT * REPLACE (properties::JSON AS properties, context::JSON AS context) FROM read_parquet(${sqlString(join(layout.events, '*', '*.parquet'))}, hive_partitioning=true, hive_types={'dt': 'DATE'}, union_by_name=true)`
    : EMPTY_EVENTS;
  let sql = `CREATE OR REPLACE VIEW events AS ${lakeSql}`;
  if (wal) {
    // Rows still in the WAL, once each, minus any the lake already holds (a segment loaded but not yet
    // deleted, or a client retry whose first copy was loaded earlier).
    const walSql = walReadSql(join(layout.walEvents, '*.log'), true);
    sql =
      `CREATE OR REPLACE VIEW events AS WITH lake AS (${lakeSql}), wal AS (SELECT * FROM (${walSql}) QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY received_at) = 1) ` +
      'SELECT * FROM lake UNION ALL BY NAME SELECT * FROM wal WHERE NOT EXISTS (SELECT 1 FROM lake WHERE lake.event_id = wal.event_id ' +
      'AND lake.received_at >= (SELECT min(received_at) FROM wal) - INTERVAL 48 HOUR)';
  }
  return { shape: `${lake}:${wal}`, sql };
}
