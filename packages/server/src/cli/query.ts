import { parseArgs } from 'node:util';
import type { InletConfig } from '../config/index.ts';
import { createQueryEngine } from '../engine/index.ts';
import { damagedFileMessage, dataLayout } from '../lake/index.ts';
import { ExitCode } from './exit-codes.ts';
import { type Format, type Output, renderRows } from './output.ts';

export const queryHelp = `inlet query "<sql>" [--format table|json|csv] [--max-rows N]
  Runs one read-only SQL statement over the lake in this process (no server needed).
  A terminal gets a table; a pipe gets NDJSON unless --format says otherwise.`;

/** inlet query: the same sandboxed engine as the HTTP API, opened in this process. */
export async function queryCommand(args: string[], config: InletConfig, output: Output): Promise<ExitCode> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { format: { type: 'string' }, 'max-rows': { type: 'string' } },
  });
  const sql = positionals.join(' ').trim();
  if (!sql) {
    output.err(`${queryHelp}\n`);
    return ExitCode.USAGE;
  }
  const format = (values.format ?? (output.isTty ? 'table' : 'json')) as Format;
  if (!['table', 'json', 'csv'].includes(format)) {
    output.err(`--format must be table, json or csv, not "${values.format}"\n`);
    return ExitCode.USAGE;
  }
  const maxRows = values['max-rows'] === undefined ? undefined : Number(values['max-rows']);
  if (maxRows !== undefined && (!Number.isInteger(maxRows) || maxRows < 0)) {
    output.err('--max-rows must be a non-negative integer\n');
    return ExitCode.USAGE;
  }
  const engine = await createQueryEngine({
    config,
    layout: dataLayout(config.data_dir),
    onDamagedFile: (moved) => output.err(`warning: ${damagedFileMessage(moved)}\n`),
  });
  try {
    const result = await engine.query(sql, {
      maxRows: maxRows ?? (format === 'table' ? 1000 : Number.MAX_SAFE_INTEGER),
    });
    output.out(
      renderRows(
        format,
        result.columns.map((c) => c.name),
        result.rows,
      ),
    );
    if (output.isTty) {
      const more = result.stats.truncated ? ' (more rows not shown; use --max-rows or --format csv)' : '';
      output.err(
        `${result.stats.rows} row${result.stats.rows === 1 ? '' : 's'} in ${result.stats.elapsed_ms} ms${more}\n`,
      );
    }
    return ExitCode.OK;
  } finally {
    engine.close();
  }
}
