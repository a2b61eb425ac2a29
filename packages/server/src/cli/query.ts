import { configFileName, type InletConfig } from '../config/index.ts';
import {
  createQueryProcess,
  type QueryColumn,
  type QueryEngine,
  type RowLimit,
  timeoutMessage,
} from '../engine/index.ts';
import { InletError } from '../errors/index.ts';
import { damagedFileMessage, dataLayout } from '../lake/index.ts';
import type { Logger } from '../log/index.ts';
import { beyondUsage, FORMATS, parseOptions } from './command.ts';
import { ExitCode } from './exit-codes.ts';
import {
  type Format,
  type Output,
  printableLines,
  printableSingleLine,
  renderTableToFit,
  streamedFormat,
} from './output.ts';

export const queryHelp = `inlet query "<sql>" [--format table|json|csv] [--max-rows N] [--timeout-ms N]
  Runs one read-only SQL statement, one argument in quotes, over the lake in this process (no
  server needed).
  A terminal gets a table (its first 1,000 rows unless --max-rows says otherwise); a pipe gets
  NDJSON, every row unless --max-rows says otherwise, as --format json and csv do.
  --timeout-ms stops it after N ms, in place of query.timeout_ms (a long export wants more).`;

const TABLE_ROWS = 1000;

/** How many rows, and in how long; after an export cut at --max-rows, how to get the rest. */
function summary(rows: number, elapsedMs: number, cutAt?: number): string {
  const rest =
    cutAt === undefined
      ? ''
      : ` (the rest left out by --max-rows ${cutAt}: pass a larger --max-rows, or leave it out for every row)`;
  return `${rows} row${rows === 1 ? '' : 's'} in ${elapsedMs} ms${rest}\n`;
}

/** What a table's note says gets every row: the options of inlet query, not the API's ?format=csv. */
const everyRow = (rowsGiven: boolean) =>
  rowsGiven
    ? 'pass a larger --max-rows, or leave it out with --format csv for every row'
    : 'export every row with --format csv';

/** The places of a result's JSON columns, whose values a table shows as their JSON text. */
const jsonColumns = (columns: QueryColumn[]): Set<number> =>
  new Set(columns.flatMap((column, i) => (column.type === 'JSON' ? [i] : [])));

async function printTable(
  engine: QueryEngine,
  sql: string,
  maxRows: number,
  rowLimit: RowLimit,
  output: Output,
  rowsGiven: boolean,
) {
  // A JSON value shows as its JSON text, a JSON null as null apart from NULL (see jsonText).
  const result = await engine.query(sql, {
    maxRows,
    rowLimit,
    everyRow: everyRow(rowsGiven),
    jsonText: true,
  });
  output.out(
    renderTableToFit(
      result.columns.map((c) => c.name),
      result.rows,
      output.columns,
      undefined,
      jsonColumns(result.columns),
    ),
  );
  // Why the rows stop short (a limit, or a timeout after which there may be none) goes to stderr as
  // psql's notices do, on a pipe too: it is about the answer, not part of it.
  // The note says how to get the rows left out, once: the summary after it only counts.
  if (result.stats.note !== undefined) output.err(`note: ${result.stats.note}\n`);
  if (output.isTty) output.err(summary(result.stats.rows, result.stats.elapsed_ms));
}

/** CSV or NDJSON written chunk by chunk as DuckDB hands the rows over, so no result is held whole. */
async function printStreamed(
  engine: QueryEngine,
  sql: string,
  format: 'json' | 'csv',
  maxRows: number,
  rowLimit: RowLimit,
  output: Output,
) {
  const started = performance.now();
  // CSV writes a JSON value as its JSON text; NDJSON holds it as JSON, parsed.
  const opts = { maxRows, rowLimit, jsonText: format === 'csv' };
  const { rows, truncated } = await engine.stream(sql, opts, async ({ columns, chunks }) => {
    const { header, lines } = streamedFormat(
      format,
      columns.map((c) => c.name),
    );
    // On a terminal, values are shown, not kept: their control characters are escaped, as in a table.
    const shown = output.isTty ? printableLines : (text: string) => text;
    if (header) output.out(shown(header));
    let written = 0;
    for await (const chunk of chunks) {
      const room = maxRows - written;
      output.out(shown(lines(chunk.length > room ? chunk.slice(0, room) : chunk)));
      written += Math.min(chunk.length, room);
      // Stop at the last row wanted, not at the chunk after it: DuckDB may hold that chunk back
      // until its scan is done, and the export, whole already, then ran into the timeout.
      if (written >= maxRows) return { rows: written, truncated: chunk.length > room };
      await output.drained?.();
    }
    return { rows: written, truncated: false };
  });
  if (output.isTty)
    output.err(summary(rows, Math.round(performance.now() - started), truncated ? maxRows : undefined));
}

/**
 * The engine's advice for an answer its process could not hold names the API's max_rows and
 * ?format=csv; inlet query takes them as --max-rows and --format csv.
 */
const inCommandTerms = (error: InletError): InletError =>
  new InletError(
    error.code,
    error.message.replaceAll('(max_rows)', '(--max-rows)').replaceAll('(?format=csv,', '(--format csv,'),
  );

/** inlet query: the same sandboxed engine as the HTTP API, in a process of its own as the server's. */
export async function queryCommand(
  args: string[],
  config: InletConfig,
  logger: Logger,
  output: Output,
): Promise<ExitCode> {
  const options = {
    format: { type: 'string' },
    'max-rows': { type: 'string' },
    'timeout-ms': { type: 'string' },
  } as const;
  const { values, positionals } = parseOptions(
    // SQL that starts with a -- comment (an editor's header) is no option: an option's name holds no
    // space before its =. A space before it makes the text a positional; the SQL is trimmed below.
    args.map((arg) => (/^-[^=\s]*\s/.test(arg) ? ` ${arg}` : arg)),
    options,
    true,
  );
  const [first = '', ...extra] = positionals;
  if (extra.length > 0) {
    // psql -c and duckdb take the SQL as one argument; joined, a word meant as the format was read
    // as SQL (a table alias, without a word), and an unquoted * was the shell's.
    const format = extra.map((word) => word.toLowerCase()).find((word) => FORMATS.includes(word));
    const why = format
      ? `For ${format.toUpperCase()} output, give --format ${format}.`
      : 'Quote the whole statement: inlet query "SELECT count(*) FROM events".';
    output.err(
      `${beyondUsage('query', 'the SQL as one argument, in quotes', extra).trimEnd()} ${why}\n${queryHelp}\n`,
    );
    return ExitCode.USAGE;
  }
  const sql = first.trim();
  if (!sql) {
    // The usage alone left what was missing to be guessed, as the other commands' messages say it.
    output.err(
      `inlet query needs the SQL to run, in quotes (an unset variable?): inlet query "SELECT count(*) FROM events".\n${queryHelp}\n`,
    );
    return ExitCode.USAGE;
  }
  const format = (values.format ?? (output.isTty ? 'table' : 'json')) as Format;
  if (!['table', 'json', 'csv'].includes(format)) {
    output.err(`--format must be table, json or csv, not "${values.format}"\n`);
    return ExitCode.USAGE;
  }
  const rowsGiven = values['max-rows'];
  // Digits only, as --timeout-ms: Number() reads '' as 0 (no rows, silently), 0x10 as 16, 1e3 as 1000.
  if (rowsGiven !== undefined && !/^\d+$/.test(rowsGiven)) {
    output.err(`--max-rows must be a whole number of rows (0 or more), not "${rowsGiven}"\n`);
    return ExitCode.USAGE;
  }
  const maxRows = rowsGiven === undefined ? undefined : Number(rowsGiven);
  const timeout = values['timeout-ms'];
  // Digits only, as --port: Number() would take 0x10 or 1e3, and a timer takes at most 2^31 - 1 ms.
  if (
    timeout !== undefined &&
    (!/^\d+$/.test(timeout) || Number(timeout) < 1 || Number(timeout) > 2 ** 31 - 1)
  ) {
    output.err(
      `--timeout-ms must be a whole number of milliseconds from 1 to 2147483647 (about 24.8 days), not "${timeout}"\n`,
    );
    return ExitCode.USAGE;
  }
  // Named as read, not as typed: --timeout-ms 0001 was "ran longer than --timeout-ms (0001 ms)".
  const timeoutMs = timeout === undefined ? undefined : Number(timeout);
  // A table stops at --max-rows, or at its first 1,000 rows when none was given: the note names the
  // option that shows more, not the API's max_rows, and a default as the default.
  const rowLimit: RowLimit = (rows) =>
    rowsGiven === undefined
      ? `a table's default of ${rows} rows (pass --max-rows N for more)`
      : `--max-rows (${rows} rows)`;
  // In a process of its own, as the server's: DuckDB cannot be interrupted while it plans (a
  // statement with expressions nested hundreds deep plans for tens of seconds), and a process whose
  // thread is held by it cannot end before it is done, process.exit() too (Node waits for libuv's
  // threads), so inlet query waited all that time to say the query had been stopped. That process is
  // ended instead, STUCK_MS after the stop, and the query fails with its reason at once.
  const engine = await createQueryProcess({
    config:
      timeoutMs === undefined ? config : { ...config, query: { ...config.query, timeout_ms: timeoutMs } },
    layout: dataLayout(config.data_dir),
    logger,
    oneQuery: true,
    ...(timeoutMs !== undefined && { timeoutName: '--timeout-ms' }),
    // A file's or a view's name is whatever a source, a model or a disk left in the lake: escaped
    // as errors are (main.ts), or an escape sequence in one reached the terminal raw. Unlike an
    // error, a warning is one line (DuckDB's detail cut at its first), so line breaks are escaped
    // too: one in a name split the warning and could pass for a second one.
    onDamagedFile: (moved) => output.err(`warning: ${printableSingleLine(damagedFileMessage(moved))}\n`),
    onViewFailed: (name, detail) =>
      output.err(
        `warning: ${printableSingleLine(`${name} is left out: its view cannot be built (${detail.split('\n')[0]})`)}\n`,
      ),
  });
  try {
    if (format === 'table')
      await printTable(engine, sql, maxRows ?? TABLE_ROWS, rowLimit, output, rowsGiven !== undefined);
    else await printStreamed(engine, sql, format, maxRows ?? Number.POSITIVE_INFINITY, rowLimit, output);
    return ExitCode.OK;
  } catch (error) {
    if (error instanceof InletError && error.code === 'QUERY_OUT_OF_MEMORY') throw inCommandTerms(error);
    if (!(error instanceof InletError) || error.code !== 'QUERY_TIMEOUT') throw error;
    // The engine's message names query.timeout_ms and the configuration file, which --timeout-ms stood in for;
    // what follows it (DuckDB went on planning the query, and what to write instead) stays.
    const engineWords = timeoutMessage(timeoutMs ?? config.query.timeout_ms, configFileName(config));
    const after = error.message.startsWith(engineWords) ? error.message.slice(engineWords.length) : '';
    throw new InletError(
      'QUERY_TIMEOUT',
      timeoutMs === undefined
        ? `${engineWords} For this run alone, pass --timeout-ms.${after}`
        : `The query ran longer than --timeout-ms (${timeoutMs} ms) and was stopped; narrow it (a date filter on dt helps), query a mart, or pass a larger --timeout-ms.${after}`,
    );
  } finally {
    engine.close();
  }
}
