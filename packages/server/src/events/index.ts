/**
 * @module events: the one event record every protocol is mapped onto, and its column types in the lake.
 * The WAL stores it as JSON, the loader writes it to Parquet, and the engine's views read both.
 */

export const EVENT_TYPES = ['page', 'track', 'identify', 'screen', 'group', 'alias'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/**
 * One row of the events table, as serialized into the WAL (timestamps as ISO 8601 strings in UTC).
 * Absent values are left out rather than written as null: records stay small, and DuckDB reads a
 * missing key as NULL.
 */
export interface EventRecord {
  event_id: string;
  site: string;
  type: EventType;
  name?: string;
  ts: string;
  received_at: string;
  anonymous_id?: string;
  user_id?: string;
  session_id?: string;
  url?: string;
  path?: string;
  referrer?: string;
  title?: string;
  utm_source?: string;
  utm_medium?: string;
  utm_campaign?: string;
  utm_term?: string;
  utm_content?: string;
  browser?: string;
  os?: string;
  device_type: string;
  is_bot: boolean;
  visitor_hash?: string;
  properties?: Record<string, unknown>;
  context?: Record<string, unknown>;
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

export { type JsonFault, jsonFault, MAX_JSON_DEPTH, stringifyShallow } from './json-depth.ts';
export { serializeEventRecord } from './record-json.ts';
export { eventTooLarge, RECORD_ADDED_BYTES, RECORD_COPIED_BYTES } from './record-size.ts';
