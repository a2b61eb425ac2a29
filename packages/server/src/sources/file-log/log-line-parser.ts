import {
  type AccessFields,
  createAccessLogParser,
  type FirstField,
  type ParseResult,
} from './access-log-parser.ts';
import { type AppFields, parseJsonLine } from './app-record.ts';
import type { FileOptions } from './file-config.ts';
import type { LogKind } from './log-tables.ts';
import { createRegexAccessParser, createRegexAppParser } from './regex-log-parser.ts';

export type LineParser =
  | {
      kind: 'access';
      parse: (line: string) => ParseResult<AccessFields>;
      /** Shown the lines of a chunk before they are parsed one by one. */
      observe?(lines: readonly { text: string }[]): void;
    }
  | { kind: 'app'; parse: (line: string) => ParseResult<AppFields> };

/** The table shape a source's format produces. */
export function logKindOf(options: Pick<FileOptions, 'format' | 'schema'>): LogKind {
  if (options.format === 'json_lines') return 'app';
  if (options.format === 'regex') return options.schema;
  return 'access';
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
      return { kind: 'app', parse: (line) => parseJsonLine(line, timezone) };
    case 'regex': {
      const pattern = options.pattern ?? '';
      return options.schema === 'app'
        ? { kind: 'app', parse: createRegexAppParser(pattern, timezone, options.multiline !== undefined) }
        : { kind: 'access', parse: createRegexAccessParser(pattern, timezone) };
    }
    default: {
      const parse = createAccessLogParser(format, timezone, { oneLayout: true, ...learned });
      return { kind: 'access', parse, observe: parse.observe };
    }
  }
}
