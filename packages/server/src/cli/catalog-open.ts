import { type Catalog, createCatalog } from '../catalog/index.ts';
import type { InletConfig } from '../config/index.ts';
import type { Logger } from '../log/index.ts';
import type { Output } from './output.ts';
import { parseVars } from './vars-option.ts';

/**
 * The catalog a command reads, with the variables --vars gives and its warnings on stderr; or
 * undefined, with the command's usage printed (after what is wrong with them, `why`, or with
 * --vars), when the arguments are not usable or --vars cannot be read.
 */
export function openCatalog(
  args: { vars: string | undefined; usable: boolean; why?: string; help: string },
  config: InletConfig,
  logger: Logger,
  output: Output,
): Catalog | undefined {
  const given = parseVars(args.vars);
  if (!args.usable || 'error' in given) {
    output.err(`${args.why ?? ''}${'error' in given ? `${given.error}\n` : ''}${args.help}\n`);
    return undefined;
  }
  return createCatalog({
    config,
    logger,
    vars: given.vars,
    onWarning: (message) => output.err(`Warning: ${message}\n`),
  });
}
