import type { LakeTable } from '../../lake/index.ts';
import type { RequestFields } from './access-log-parser.ts';

/** The last fields of every log row, as PROVENANCE_COLUMNS describes them. */
interface ProvenanceFields {
  source: string;
  dt: string;
}

/** One row of access_logs as written to the lake; the raw client IP is never part of it. */
export interface AccessRow extends RequestFields, ProvenanceFields {
  ts: string;
  user_agent: string | null;
  browser: string | null;
  os: string | null;
  device_type: string;
  is_bot: boolean;
  visitor_hash: string | null;
  response_time_ms: number | null;
}

/** One row of app_logs: the keys most loggers share as columns, everything else in `fields`. */
export interface AppRow extends ProvenanceFields {
  ts: string;
  level: string | null;
  message: string | null;
  logger: string | null;
  service: string | null;
  host: string | null;
  trace_id: string | null;
  span_id: string | null;
  fields: Record<string, unknown> | null;
}

export type LogKind = 'access' | 'app';

interface Column {
  name: string;
  type: string;
  description: string;
}

/** The last columns of every log table: where each row came from, and its partition. */
const PROVENANCE_COLUMNS: Column[] = [
  {
    name: 'source',
    type: 'VARCHAR',
    description: 'The inlet.yaml source (or HTTP intake source) the row came from',
  },
  { name: 'dt', type: 'VARCHAR', description: 'UTC date of ts (the Hive partition)' },
];

const ACCESS_COLUMNS: Column[] = [
  {
    name: 'ts',
    type: 'TIMESTAMPTZ',
    description: 'When the request was logged, from the line with its offset',
  },
  { name: 'host', type: 'VARCHAR', description: 'Virtual host, from the format or the source option host' },
  { name: 'method', type: 'VARCHAR', description: 'HTTP method; NULL when the request line was malformed' },
  {
    name: 'path',
    type: 'VARCHAR',
    description: 'Request path as logged (still URL-encoded), without the query',
  },
  { name: 'query', type: 'VARCHAR', description: 'Query string without the leading ?' },
  { name: 'protocol', type: 'VARCHAR', description: 'HTTP/1.1, HTTP/2.0 …' },
  { name: 'status', type: 'INTEGER', description: 'HTTP status code' },
  { name: 'bytes', type: 'BIGINT', description: 'Response body bytes sent' },
  { name: 'referrer', type: 'VARCHAR', description: 'Referer header' },
  { name: 'user_agent', type: 'VARCHAR', description: 'User-Agent header' },
  { name: 'browser', type: 'VARCHAR', description: 'Browser name parsed from the user agent' },
  { name: 'os', type: 'VARCHAR', description: 'Operating system parsed from the user agent' },
  { name: 'device_type', type: 'VARCHAR', description: 'desktop, mobile, tablet, bot or unknown' },
  { name: 'is_bot', type: 'BOOLEAN', description: 'The user agent is a known crawler or tool' },
  {
    name: 'visitor_hash',
    type: 'VARCHAR',
    description: 'Daily-salted hash of site, client IP and user agent; the IP itself is never stored',
  },
  {
    name: 'response_time_ms',
    type: 'DOUBLE',
    description: 'Time to serve the request in ms, when the format logs it ($request_time, %D)',
  },
  ...PROVENANCE_COLUMNS,
];

const APP_COLUMNS: Column[] = [
  {
    name: 'ts',
    type: 'TIMESTAMPTZ',
    description: 'When the record was logged (ts, time, timestamp, @timestamp or date)',
  },
  { name: 'level', type: 'VARCHAR', description: 'Log level in lower case (pino numbers become names)' },
  { name: 'message', type: 'VARCHAR', description: 'msg, message or log' },
  { name: 'logger', type: 'VARCHAR', description: 'logger or logger_name' },
  { name: 'service', type: 'VARCHAR', description: 'service, service.name, app or application' },
  { name: 'host', type: 'VARCHAR', description: 'host or hostname' },
  { name: 'trace_id', type: 'VARCHAR', description: 'trace_id or traceId' },
  { name: 'span_id', type: 'VARCHAR', description: 'span_id or spanId' },
  { name: 'fields', type: 'JSON', description: 'Every other key of the record, as JSON' },
  ...PROVENANCE_COLUMNS,
];

export const LOG_COLUMNS: Record<LogKind, Column[]> = { access: ACCESS_COLUMNS, app: APP_COLUMNS };

/** The default lake table of each kind. */
export const DEFAULT_TABLE: Record<LogKind, string> = { access: 'access_logs', app: 'app_logs' };

/** DuckDB's read_json `columns={…}` argument for a kind's NDJSON rows. */
export function readJsonColumns(kind: LogKind): string {
  return `{${LOG_COLUMNS[kind].map((c) => `${c.name}: '${c.type}'`).join(', ')}}`;
}

/** The self-describing manifest the engine turns into a view. */
export function logTableManifest(kind: LogKind, name: string): LakeTable {
  return {
    name,
    kind: 'logs',
    files: 'dt=*/*.parquet',
    hive_partitioning: true,
    description:
      kind === 'access'
        ? 'HTTP access log lines (nginx, Apache, regex formats and the HTTP log intake), one row per request.'
        : 'Application log records (JSON lines and the HTTP log intake), one row per record.',
    columns: Object.fromEntries(LOG_COLUMNS[kind].map((c) => [c.name, c.description])),
  };
}
