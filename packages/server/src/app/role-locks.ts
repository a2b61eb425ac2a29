import { join } from 'node:path';
import { type ApiToken, claimApiToken } from '../auth/index.ts';
import type { InletConfig } from '../config/index.ts';
import { InletError } from '../errors/index.ts';
import type { DataLayout } from '../lake/index.ts';
import type { Logger } from '../log/index.ts';
import { acquireProcessLock, type ProcessLock } from '../state/index.ts';
import type { Role } from './roles.ts';

/**
 * Takes the data directory's lock of each role one process a directory runs (collector, loader) and,
 * for a process serving the API (collector or web), claims the API token it serves: each lock is
 * pushed to roleLocks as it is taken, so a start that fails or stops part-way frees them. Gives back
 * the token, said in the log when generated or when it replaces the one served before.
 */
export async function lockRoles(options: {
  config: InletConfig;
  logger: Logger;
  layout: DataLayout;
  has: (role: Role) => boolean;
  roleLocks: ProcessLock[];
  stopIfAsked: () => void;
}): Promise<ApiToken | undefined> {
  const { config, logger, layout, has, roleLocks, stopIfAsked } = options;
  for (const role of (['collector', 'loader'] as const).filter(has)) {
    const path = join(layout.state, `${role}.lock`);
    roleLocks.push(
      acquireProcessLock(
        path,
        (holder) =>
          new InletError(
            'DATA_DIR_IN_USE',
            `${holder} runs the ${role} role on ${config.data_dir}, and one data directory takes one ${role}. Stop that process, give this one another data_dir, or start it with --role for what the other does not run (lock file: ${path}).`,
          ),
      ),
    );
  }
  // After the locks, before anything is opened: a start refused for a data directory in use
  // generated data/state/api-token there, which the running inlet (given INLET_API_TOKEN) did not
  // use, and served in its place once restarted without the variable. Each process serving the
  // API is listed, so a start given another token than those running serve is refused.
  let resolvedToken: ApiToken | undefined;
  if (has('collector') || has('web')) {
    const claim = await claimApiToken(config);
    // Listed before the stop is looked at: a start stopped while it claimed kept this process's
    // entry among the servers of the API, and a start given another token was refused for it.
    roleLocks.push(claim.server.lock);
    stopIfAsked();
    resolvedToken = claim.token;
  }
  if (resolvedToken?.generated)
    logger.info({ path: resolvedToken.path }, 'generated an API token because INLET_API_TOKEN is not set');
  // Never the token, nor its SHA-256 (a short one is found from it): where the old one was kept.
  if (resolvedToken?.replaced)
    logger.warn(
      { path: resolvedToken.replaced },
      'INLET_API_TOKEN is not the API token served on this data directory before, and replaces it: clients sending the old one are refused from now on',
    );
  return resolvedToken;
}
