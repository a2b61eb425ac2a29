import { parseArgs } from 'node:util';
import type { InletConfig } from '../config/index.ts';
import { dataLayout } from '../lake/index.ts';
import type { Logger } from '../log/index.ts';
import { createMetrics } from '../metrics/index.ts';
import { createSources, findSource } from '../sources/index.ts';
import { openStateStore } from '../state/index.ts';
import { ExitCode } from './exit-codes.ts';
import { createProgress, type Output } from './output.ts';

export const syncHelp = `inlet sync <source>
  Runs one configured source now (a database copy, a CSV import, a catch-up read of log files),
  with a progress bar on a terminal. Ctrl-C stops it at a safe point.`;

export async function syncCommand(
  args: string[],
  config: InletConfig,
  logger: Logger,
  output: Output,
): Promise<ExitCode> {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  const [name] = positionals;
  if (!name || positionals.length > 1) {
    output.err(`${syncHelp}\n`);
    return ExitCode.USAGE;
  }
  const source = findSource(createSources(config), name);
  const layout = dataLayout(config.data_dir);
  const state = openStateStore(`${config.data_dir}/state.sqlite`);
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  let progress: ReturnType<typeof createProgress> | undefined;
  let done = 0;
  try {
    const result = await source.sync({
      config,
      layout,
      state,
      logger,
      metrics: createMetrics(),
      signal: abort.signal,
      onProgress: (rows, total) => {
        done = rows;
        progress ??= createProgress(output, `Syncing ${name}`, total ?? 0);
        progress.update(rows);
      },
    });
    progress?.done(done);
    for (const table of result.tables)
      output.err(`${table.table}: ${table.rows.toLocaleString('en-US')} rows\n`);
    output.err(`Synced ${result.rows.toLocaleString('en-US')} rows from ${name}.\n`);
    return ExitCode.OK;
  } finally {
    process.off('SIGINT', stop);
    state.close();
  }
}
