import {
  type AccessFields,
  createAccessLogParser,
  type FirstField,
  type ParseResult,
} from './access-log-parser.ts';
import { type AppFields, parseJsonLine, parseJsonRecord } from './app-record.ts';
import type { FileOptions } from './file-config.ts';
import { createRegexAccessParser, createRegexAppParser } from './regex-log-parser.ts';

export type LineParser =
  | {
      kind: 'access';
      parse: (line: string) => ParseResult<AccessFields>;
      /** Shown the lines of a chunk before they are parsed one by one. */
      observe?(lines: readonly { text: string }[]): void;
    }
  | { kind: 'app'; parse: (line: string) => ParseResult<AppFields> };

/**
 * The access line a Docker json-file record holds (`{"log":"172.17.0.1 - - […] \"GET / HTTP/1.1\"
 * 200 45\n","stream":"stdout","time":"…"}`, a container's stdout), without its line break; any other
 * line as it is. Such a record was a reject ("does not match"), where POST /logs reads its line;
 * an access line never starts with `{`. Docker's time is left: the line's own is the row's.
 */
function dockerLine(line: string): string {
  if (!line.startsWith('{')) return line;
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return line;
  }
  const log = typeof record === 'object' && record !== null ? (record as { log?: unknown }).log : undefined;
  return typeof log === 'string' ? log.trimEnd() : line;
}

function* dockerLines(lines: Iterable<{ text: string }>): Generator<{ text: string }> {
  for (const { text } of lines) yield { text: dockerLine(text) };
}

/**
 * The parser for a source's configured format. `layout`: what the source's access log lines have
 * shown so far of their first field, kept in its checkpoint; `onLayout` hears what they show next.
 */
export function createLineParser(
  options: Pick<FileOptions, 'format' | 'schema' | 'pattern' | 'timezone' | 'multiline'>,
  learned: { layout?: FirstField; onLayout?(layout: FirstField): void } = {},
): LineParser {
  const { format, timezone } = options;
  switch (format) {
    case 'json_lines':
      return {
        kind: 'app',
        parse: (text) =>
          options.multiline ? parseJsonRecord(text, timezone) : parseJsonLine(text, timezone),
      };
    case 'regex': {
      const pattern = options.pattern ?? '';
      return options.schema === 'app'
        ? { kind: 'app', parse: createRegexAppParser(pattern, timezone, options.multiline !== undefined) }
        : { kind: 'access', parse: createRegexAccessParser(pattern, timezone) };
    }
    default: {
      const parser = createAccessLogParser(format, timezone, { oneLayout: true, ...learned });
      return {
        kind: 'access',
        parse: (line) => parser(dockerLine(line)),
        // Unwrapped as they are looked at: the look stops at the first line that shows the layout.
        observe: (lines) => parser.observe(dockerLines(lines)),
      };
    }
  }
}
