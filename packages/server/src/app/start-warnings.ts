import { configFileName, type InletConfig, warnLeftOutSources } from '../config/index.ts';
import type { Logger } from '../log/index.ts';
import { projectWarnings } from '../models/index.ts';
import { warnLeftOutWorkflows, workflowsToSchedule } from '../scheduler/index.ts';
import type { Role } from './roles.ts';

/**
 * What a start of the given roles says of the configuration before anything starts: the workflows
 * and sources left out, and the project's warnings. Gives back the workflows the scheduler loaded
 * (for a process without it, none) and warnOnce, which says each warning once a process.
 */
export function warnAtStart(options: { config: InletConfig; logger: Logger; has: (role: Role) => boolean }) {
  const { config, logger, has } = options;
  // Before anything starts: each workflow that does not load is left out, named in a warning (the
  // others run, and the collector collects); what leaves none readable stops start-up with its file named.
  const loaded = has('scheduler') ? workflowsToSchedule(config, logger) : undefined;
  if (has('scheduler')) warnLeftOutWorkflows(config, logger);
  // A source an unset ${VAR} leaves out (its url:) is not synced nor tailed; the rest starts.
  if (has('scheduler') || has('collector')) warnLeftOutSources(config, logger);
  // A warning about the project (a dbt_project.yml entry for no model) is said once a process: at
  // start, not first in the log of a run at night, and not again at each run or look at the catalog.
  const warned = new Set<string>();
  const warnOnce = (message: string) => {
    if (warned.has(message)) return;
    warned.add(message);
    logger.warn(message);
  };
  if (has('scheduler')) for (const warning of projectWarnings(config)) warnOnce(warning);
  return { loaded, warnOnce };
}

/** Warns, once the collector has started, that it refuses every event when no site is set up. */
export function warnNoSite(options: {
  config: InletConfig;
  logger: Logger;
  has: (role: Role) => boolean;
}): void {
  const { config, logger, has } = options;
  // The defaults (inlet start with no inlet.yaml) list no site: said here, not only in each 401.
  if (has('collector') && config.sites.length === 0)
    logger.warn(
      config.configPath === undefined
        ? 'no site is set up, as no configuration file was read (no inlet.yaml in the working directory, nor --config), so the collector refuses every event (401 UNKNOWN_WRITE_KEY); create inlet.yaml with a site under sites: (an id and a write_key), and restart'
        : `no site is set up in ${configFileName(config)}, so the collector refuses every event (401 UNKNOWN_WRITE_KEY); add one under sites: with an id and a write_key, and restart`,
    );
}
