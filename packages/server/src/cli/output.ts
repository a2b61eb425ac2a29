import { once } from 'node:events';
import type { Json } from '@duckdb/node-api';
import { csvLine, jsonText, numberText } from '../http/index.ts';
import { ExitCode } from './exit-codes.ts';
import { characters, displayWidth, fitWidth, padWidth } from './text-width.ts';

/** Where a command writes: a terminal gets tables and progress bars, a pipe gets NDJSON or CSV. */
export interface Output {
  isTty: boolean;
  /** The terminal's width in columns, when out() writes to one. */
  columns?: number;
  /** Whether progress bars are drawn: stderr is a terminal and no CI runner is recording it. */
  progress?: boolean;
  out(text: string): void;
  err(text: string): void;
  /** Resolves once out() can take more: a reader slower than a query would otherwise fill memory. */
  drained?(): Promise<void>;
}

/**
 * A reader that stops early (inlet query … | head) closes the pipe, and the next write fails with
 * EPIPE, which Node throws as an unhandled error with a stack trace. The reader has what it wanted:
 * inlet stops quietly, as Unix tools do. Another write error (ENOSPC: an export to a disk that
 * filled up) was thrown the same way, Node's stack and all: it is one line that says so, and exit 1.
 */
function quietOnClosedPipe(error: NodeJS.ErrnoException): void {
  if (error.code === 'EPIPE') process.exit(0);
  process.stderr.write(
    `inlet could not write its output (${error.message}), so what it wrote is incomplete; free room where standard output goes, or send it elsewhere.\n`,
  );
  process.exit(ExitCode.FAILURE);
}

export function processOutput(env: Record<string, string | undefined> = process.env): Output {
  // stderr too: inlet query … 2>&1 | head wrote its note after the table to a closed pipe, and the
  // EPIPE ended inlet with exit 1 and a stack trace nobody could read.
  for (const stream of [process.stdout, process.stderr])
    if (!stream.listeners('error').includes(quietOnClosedPipe)) stream.on('error', quietOnClosedPipe);
  return {
    isTty: Boolean(process.stdout.isTTY),
    columns: process.stdout.isTTY ? process.stdout.columns : undefined,
    progress: Boolean(process.stderr.isTTY) && !underCi(env),
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    drained: async () => {
      if (process.stdout.writableNeedDrain) await once(process.stdout, 'drain');
    },
  };
}

/** CI=true (or 1, or any value but false/0), as CI runners set it: a log, not a terminal to redraw. */
const underCi = (env: Record<string, string | undefined>): boolean =>
  env.CI !== undefined && env.CI !== '' && env.CI !== 'false' && env.CI !== '0';

export type Format = 'table' | 'json' | 'csv';

/** Text a table would show as NULL or as nothing, or whose ends a reader cannot see. */
const AMBIGUOUS_TEXT = /^(?:NULL|"[\s\S]*|\s[\s\S]*|[\s\S]*\s|)$/;

/**
 * A value as a table cell. NULL is NULL; text that would read as NULL or as nothing ('NULL', '',
 * ' x ') is quoted as JSON ("NULL", "", " x "), and so is text that starts with a quote, so the
 * quotes stay unambiguous: a table told neither a missing value from the text NULL nor an empty
 * text from a blank one.
 */
function cell(value: Json): string {
  if (value === null) return 'NULL';
  if (typeof value === 'object') return jsonText(value);
  if (typeof value === 'number') return numberText(value);
  if (typeof value === 'string' && AMBIGUOUS_TEXT.test(value)) return JSON.stringify(value);
  return String(value);
}

/** Control characters, and the Unicode ones that end a line or turn text around. */
const UNPRINTABLE = /[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;

const ESCAPES: Record<string, string> = { '\t': '\\t', '\r': '\\r', '\n': '\\n' };

/**
 * Text as a terminal may show it: a line break as a space, other control characters as escapes
 * (\t, \u001b). Values are whatever a page or a source sent: an escape sequence in one reached the
 * terminal, clearing or recolouring it, and a carriage return or tab broke the table's lines.
 */
function printable(text: string): string {
  return escapeUnprintable(text.replaceAll('\n', ' '));
}

const escapeChar = (char: string): string =>
  ESCAPES[char] ?? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;

const escapeUnprintable = (text: string): string => text.replace(UNPRINTABLE, escapeChar);

/**
 * Text meant as one line, as a terminal may show it: every control character escaped, line breaks
 * too. A warning names files and views, whatever a source, a model or a disk left in the lake, and
 * a line break in one split the warning and could pass for a second warning of inlet's own.
 */
export function printableSingleLine(text: string): string {
  return escapeUnprintable(text);
}

/** As UNPRINTABLE, but for line breaks (\n, and \r\n as CSV ends its lines). */
const UNPRINTABLE_BUT_LINE_BREAKS = /(?!\r?\n)[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;

/**
 * Text as a terminal may show it, its lines kept, other control characters escaped as in a table:
 * DuckDB's errors quote the SQL they were given, and CSV and NDJSON hold whatever values held, and
 * an escape sequence or a right-to-left override in either reached the terminal raw. In NDJSON,
 * where such characters stand only inside strings, their escapes are the same JSON.
 */
export function printableLines(text: string): string {
  return text.replace(UNPRINTABLE_BUT_LINE_BREAKS, escapeChar);
}

/**
 * output, its err() escaping control characters as errors with a code are (printableLines): a usage
 * message quotes the argument it refuses, and an escape sequence in one (inlet runs --workflow
 * $'x\e[2J') cleared the terminal. A progress bar's leading \r, inlet's own, is kept.
 */
export function withPrintableErrors(output: Output): Output {
  return {
    ...output,
    err: (text) =>
      output.err(text.startsWith('\r') ? `\r${printableLines(text.slice(1))}` : printableLines(text)),
  };
}

/** DuckDB's quote of the failing SQL line, and its caret line under it. */
const SQL_LINE = /^(LINE \d+: )(.*)$/s;
const CARET_LINE = /^( *)\^$/;
/** Control characters the SQL tokenizer skips as space: an error never points at one. */
const SQL_SPACE = /^[\t\v\f\r]$/;

/**
 * An error's message as printableLines shows it, with DuckDB's caret moved under what failed.
 * DuckDB counts a control character in the SQL as no column, and the terminal is shown its escape
 * (\u001b, \t) in its place: the caret stood that many columns left of the failing token.
 */
export function printableMessage(text: string): string {
  const lines = text.split('\n');
  return lines
    .map((line, i) => {
      const quoted = SQL_LINE.exec(lines[i - 1] ?? '');
      const indent = CARET_LINE.exec(line)?.[1];
      if (quoted === null || indent === undefined) return printableLines(line);
      const [, label = '', sql = ''] = quoted;
      return `${' '.repeat(label.length + caretColumn(sql, indent.length - label.length))}^`;
    })
    .join('\n');
}

/** The terminal's column of what DuckDB's caret points at, column (DuckDB's count) into sql. */
function caretColumn(sql: string, column: number): number {
  let counted = 0;
  let shown = 0;
  for (const { text, width } of characters(sql)) {
    const escaped = printableLines(text);
    // Past DuckDB's column, a control character is stepped over only when the tokenizer skips it
    // too (a tab): one it does not (\u001b) is the failing token itself.
    if (counted >= column && !(escaped !== text && SQL_SPACE.test(text))) break;
    if (escaped === text) counted += width;
    shown += escaped === text ? width : escaped.length;
  }
  return shown;
}

/** No column of JSON text. */
const NO_JSON: ReadonlySet<number> = new Set();

/**
 * The cells of rows; a value of a column in jsonText is JSON text (a JSON column's, as the engine
 * gives it with jsonText) and is shown as it is: JSON text never reads as NULL or as nothing, and
 * quoted as other text is, the JSON string "a,b" would show as "\"a,b\"".
 */
const cellsOf = (row: Json[], jsonText: ReadonlySet<number>) =>
  row.map((value, i) => (typeof value === 'string' && jsonText.has(i) ? value : cell(value)));

/**
 * Renders rows as an aligned table with a header rule; long cells are cut at maxWidth columns.
 * The values of the columns in jsonText are JSON text, shown as they are (see cellsOf).
 */
export function renderTable(columns: string[], rows: Json[][], maxWidth = 60, jsonText = NO_JSON): string {
  const cells = rows.map((row) => cellsOf(row, jsonText).map((v) => fitWidth(printable(v), maxWidth)));
  const names = columns.map(printable);
  // A loop, not Math.max(...): spread over hundreds of thousands of rows overflows the stack.
  const widths = names.map(displayWidth);
  for (const row of cells)
    row.forEach((text, i) => {
      widths[i] = Math.max(widths[i] ?? 0, displayWidth(text));
    });
  const line = (values: string[]) =>
    values
      .map((v, i) => padWidth(v, widths[i] ?? 0))
      .join(' │ ')
      .trimEnd();
  const lines = [line(names), widths.map((w) => '─'.repeat(w)).join('─┼─')];
  for (const row of cells) lines.push(line(row));
  return `${lines.join('\n')}\n`;
}

/**
 * Rows as a table, or, when the table is wider than the terminal, as one block per row of
 * "column │ value" lines (as psql's expanded display): wrapped by the terminal, a wide table's
 * header and rows ran over several lines into each other.
 */
export function renderTableToFit(
  columns: string[],
  rows: Json[][],
  terminalWidth?: number,
  maxWidth?: number,
  jsonText = NO_JSON,
): string {
  const table = renderTable(columns, rows, maxWidth, jsonText);
  const rule = table.split('\n', 2)[1] ?? '';
  // Without rows, the header is all there is: as a table it at least names the columns. A width of
  // 0 is a terminal that does not know its own (script(1), a serial console), not a narrow one.
  if (!terminalWidth || rows.length === 0 || displayWidth(rule) <= terminalWidth) return table;
  const names = columns.map(printable);
  const nameWidth = Math.max(...names.map(displayWidth));
  // Values get what the names leave, but never so little that none can be read.
  const valueWidth = Math.max(10, terminalWidth - nameWidth - 3);
  const lines: string[] = [];
  rows.forEach((row, r) => {
    const title = `─[ row ${r + 1} ]`;
    lines.push(title + '─'.repeat(Math.max(0, terminalWidth - displayWidth(title))));
    const cells = cellsOf(row, jsonText);
    names.forEach((name, i) => {
      lines.push(
        `${padWidth(name, nameWidth)} │ ${fitWidth(printable(cells[i] ?? 'NULL'), valueWidth)}`.trimEnd(),
      );
    });
  });
  return `${lines.join('\n')}\n`;
}

/** Rows in a format that can be written piece by piece: its header (CSV's), and rows as lines. */
export function streamedFormat(format: 'json' | 'csv', columns: string[]) {
  if (format === 'csv')
    return { header: csvLine(columns), lines: (rows: Json[][]) => rows.map(csvLine).join('') };
  const line = (row: Json[]) =>
    `${jsonText(Object.fromEntries(columns.map((c, i) => [c, row[i] ?? null])))}\n`;
  return { header: '', lines: (rows: Json[][]) => rows.map(line).join('') };
}

/**
 * Rows in the chosen format: a table (a row at a time when wider than terminalWidth, as
 * renderTableToFit), NDJSON (one object a line) or CSV with a header.
 */
export function renderRows(
  format: Format,
  columns: string[],
  rows: Json[][],
  terminalWidth?: number,
): string {
  if (format === 'table') return renderTableToFit(columns, rows, terminalWidth);
  const { header, lines } = streamedFormat(format, columns);
  return header + lines(rows);
}

/**
 * A progress bar on a terminal (redrawn at most 10 times a second), nothing on a pipe or under CI.
 * A total given later replaces the first (an estimate made exact, as a sync's last report is).
 */
export function createProgress(output: Output, label: string, total: number) {
  let last = 0;
  const started = Date.now();
  const draw = (done: number, final = false) => {
    if (!output.progress) return;
    const now = Date.now();
    if (!final && now - last < 100) return;
    last = now;
    const width = 30;
    // A total is often an estimate (a database's row count), so done can pass it.
    const filled = Math.min(width, Math.round((done / Math.max(total, 1)) * width));
    const rate = Math.round(done / Math.max((now - started) / 1000, 0.001));
    output.err(
      `\r${label} [${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} ${rate.toLocaleString('en-US')}/s${final ? '\n' : ''}`,
    );
  };
  const draws = (final: boolean) => (done: number, newTotal?: number) => {
    if (newTotal !== undefined) total = newTotal;
    draw(done, final);
  };
  return { update: draws(false), done: draws(true) };
}
