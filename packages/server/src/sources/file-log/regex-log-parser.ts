import {
  type AccessFields,
  accessResult,
  type ParseResult,
  responseTimeMs,
  splitRequestLine,
  splitTarget,
  unescapeLogField,
  writtenNumber,
} from './access-log-parser.ts';
import { type AppFields, appFieldsOf } from './app-record.ts';
import { parseLogTime } from './log-timestamp.ts';

/** Named groups a `format: regex` pattern may use for access_logs rows. */
export const ACCESS_GROUPS = [
  'ts',
  'remote_addr',
  'host',
  'method',
  'path',
  'query',
  'protocol',
  'request',
  'status',
  'bytes',
  'referrer',
  'user_agent',
  'request_time',
  'request_time_ms',
  'request_time_us',
] as const;

/** The named groups of a pattern, in order. */
export function groupNames(pattern: string): string[] {
  return [...pattern.matchAll(/\(\?<([A-Za-z_][A-Za-z0-9_]*)>/g)].map((m) => m[1] as string);
}

const value = (groups: Record<string, string | undefined>, name: string): string | null => {
  const v = groups[name];
  return v === undefined || v === '' || v === '-' ? null : unescapeLogField(v);
};

const TIMING_GROUPS = [
  ['request_time', 's'],
  ['request_time_ms', 'ms'],
  ['request_time_us', 'us'],
] as const;

/** A parser that hands the named groups of a line re matches to build, and refuses a line it does not. */
function matching<T>(
  re: RegExp,
  build: (groups: Record<string, string | undefined>) => ParseResult<T>,
): (line: string) => ParseResult<T> {
  return (line) => {
    const groups = re.exec(line)?.groups;
    if (!groups) return { ok: false, reason: 'does not match the pattern' };
    return build(groups);
  };
}

/** A parser for access lines described by a regex with named groups (see ACCESS_GROUPS). */
export function createRegexAccessParser(
  pattern: string,
  timeZone: string,
): (line: string) => ParseResult<AccessFields> {
  return matching(new RegExp(pattern), (groups) => {
    const time = value(groups, 'ts');
    const tsMs = time === null ? undefined : parseLogTime(time, timeZone);
    if (time !== null && tsMs === undefined) return { ok: false, reason: `bad timestamp ${time}` };
    const request = splitRequestLine(value(groups, 'request'));
    const rawPath = value(groups, 'path');
    const method = value(groups, 'method') ?? request.method;
    const target = rawPath === null ? undefined : splitTarget(rawPath, method);
    // The first timing group the line fills wins; one holding no number (`abc`) is refused, naming it.
    const timing = TIMING_GROUPS.find(([name]) => value(groups, name) !== null);
    const took = timing
      ? responseTimeMs(
          timing[0],
          value(groups, timing[0]),
          timing[1],
          (what) => `make the group match ${what}`,
        )
      : { ok: true as const, value: null };
    if (!took.ok) return took;
    const status = value(groups, 'status');
    const bytes = value(groups, 'bytes');
    return accessResult(
      {
        tsMs,
        remoteAddr: value(groups, 'remote_addr'),
        host: value(groups, 'host') ?? target?.host ?? request.targetHost,
        method,
        path: target ? target.path : request.path,
        query: value(groups, 'query') ?? (target ? target.query : request.query),
        protocol: value(groups, 'protocol') ?? request.protocol,
        // A group holding no number (`abc`) is refused, naming it, rather than stored as NULL.
        status: status === null ? null : writtenNumber(status),
        bytes: bytes === null ? null : writtenNumber(bytes),
        referrer: value(groups, 'referrer'),
        userAgent: value(groups, 'user_agent'),
        responseTimeMs: took.value,
      },
      { status, bytes },
    );
  });
}

/**
 * A parser for application lines described by a regex: groups become a record, as for JSON lines.
 * For multi-line records `.` matches line breaks too (dotAll), so `(?<message>.*)$` takes the trace.
 */
export function createRegexAppParser(
  pattern: string,
  timeZone: string,
  multiline = false,
): (line: string) => ParseResult<AppFields> {
  return matching(new RegExp(pattern, multiline ? 's' : ''), (groups) => {
    const record: Record<string, unknown> = {};
    for (const [name, v] of Object.entries(groups)) if (v !== undefined && v !== '') record[name] = v;
    return appFieldsOf(record, timeZone);
  });
}
