import { parseArgs } from 'node:util';
import { createCatalog } from '../catalog/index.ts';
import type { InletConfig } from '../config/index.ts';
import type { Logger } from '../log/index.ts';
import { ExitCode } from './exit-codes.ts';
import type { Output } from './output.ts';

export const docsHelp = `inlet docs check
  Lists marts and mart columns that have no description (in the model's YAML, or inherited
  from the same column upstream). A lint: it always exits 0.`;

/** inlet docs check: what the catalog cannot describe yet. */
export async function docsCommand(
  args: string[],
  config: InletConfig,
  logger: Logger,
  output: Output,
): Promise<ExitCode> {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  if (positionals.length !== 1 || positionals[0] !== 'check') {
    output.err(`${docsHelp}\n`);
    return ExitCode.USAGE;
  }
  const catalog = createCatalog({ config, logger });
  try {
    const gaps = await catalog.docsCheck();
    for (const gap of gaps)
      output.out(
        output.isTty
          ? `${gap.column ? `${gap.table}.${gap.column}: column` : `${gap.table}: table`} has no description\n`
          : `${JSON.stringify(gap)}\n`,
      );
    output.err(
      gaps.length === 0
        ? 'Every mart and column has a description.\n'
        : `${gaps.length} missing description${gaps.length === 1 ? '' : 's'}; add them to the models' YAML (description:, columns:).\n`,
    );
    return ExitCode.OK;
  } finally {
    catalog.close();
  }
}
