/**
 * @module events: the one event record every protocol is mapped onto, and its column types in the lake.
 * The WAL stores it as JSON, the loader writes it to Parquet, and the engine's views read both.
 */

export const EVENT_TYPES = ['page', 'track', 'identify', 'screen', 'group', 'alias'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** One row of the events table, as serialized into the WAL (timestamps as ISO 8601 strings in UTC). */
export interface EventRecord {
  event_id: string;
  site: string;
  type: EventType;
  name: string | null;
  ts: string;
  received_at: string;
  anonymous_id: string | null;
  user_id: string | null;
  session_id: string | null;
  url: string | null;
  path: string | null;
  referrer: string | null;
  title: string | null;
  utm_source: string | null;
  utm_medium: string | null;
  utm_campaign: string | null;
  utm_term: string | null;
  utm_content: string | null;
  browser: string | null;
  os: string | null;
  device_type: string;
  is_bot: boolean;
  visitor_hash: string | null;
  properties: Record<string, unknown>;
  context: Record<string, unknown>;
  /** UTC date of ts, the Hive partition. */
  dt: string;
}

/** Column name and DuckDB type, in table order; dt comes last as the partition column. */
export const EVENT_COLUMNS: ReadonlyArray<readonly [keyof EventRecord, string]> = [
  ['event_id', 'VARCHAR'],
  ['site', 'VARCHAR'],
  ['type', 'VARCHAR'],
  ['name', 'VARCHAR'],
  ['ts', 'TIMESTAMPTZ'],
  ['received_at', 'TIMESTAMPTZ'],
  ['anonymous_id', 'VARCHAR'],
  ['user_id', 'VARCHAR'],
  ['session_id', 'VARCHAR'],
  ['url', 'VARCHAR'],
  ['path', 'VARCHAR'],
  ['referrer', 'VARCHAR'],
  ['title', 'VARCHAR'],
  ['utm_source', 'VARCHAR'],
  ['utm_medium', 'VARCHAR'],
  ['utm_campaign', 'VARCHAR'],
  ['utm_term', 'VARCHAR'],
  ['utm_content', 'VARCHAR'],
  ['browser', 'VARCHAR'],
  ['os', 'VARCHAR'],
  ['device_type', 'VARCHAR'],
  ['is_bot', 'BOOLEAN'],
  ['visitor_hash', 'VARCHAR'],
  ['properties', 'JSON'],
  ['context', 'JSON'],
  ['dt', 'DATE'],
];

/** The record as a DuckDB STRUCT type, for read_json over WAL segments. */
export const EVENT_STRUCT_SQL = `STRUCT(${EVENT_COLUMNS.map(([name, type]) => `"${name}" ${type}`).join(', ')})`;

/** Column list without the partition column, in table order. */
export const EVENT_DATA_COLUMNS = EVENT_COLUMNS.filter(([name]) => name !== 'dt').map(([name]) => name);
