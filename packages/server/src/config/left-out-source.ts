import { InletError } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import { configFileName } from './config-file-name.ts';
import type { InletConfig } from './load.ts';

type LeftOutConfig = Pick<InletConfig, 'sourcesLeftOut' | 'sourcesLeftOutBy' | 'configPath'>;

/**
 * Why a source is left out (loadConfig's sourcesLeftOut) and what to set, as messages say it: "for
 * an unset variable; set it" named no variable, and "set it" read as setting the source.
 */
export function leftOutSource(file: string, variable: string | undefined): { why: string; set: string } {
  return {
    why: `${file} leaves it out, as ${variable === undefined ? 'an environment variable' : `the environment variable ${variable}`} in its entry is not set`,
    set: variable === undefined ? 'set that variable' : `set ${variable} (export ${variable}=…)`,
  };
}

/**
 * The failure of a workflow's sync step of a source left out for an unset variable (the run says
 * "sync crm: " before it), or undefined for another name: "No source named crm" sent one looking for
 * a typo in a source that is configured.
 */
export function leftOutSourceError(config: LeftOutConfig, name: string): InletError | undefined {
  if (!config.sourcesLeftOut.includes(name)) return undefined;
  const { why, set } = leftOutSource(configFileName(config), config.sourcesLeftOutBy[name]);
  return new InletError(
    'CONFIG_INVALID',
    `${why}; ${set} in the environment of inlet start (and restart it) or of inlet runs start, for it to sync.`,
  );
}

/**
 * Warns at start-up of each source an unset ${VAR} leaves out, by name and variable: inlet start
 * once refused to start for it, collector included, and now runs without the source.
 */
export function warnLeftOutSources(config: LeftOutConfig, logger: Logger): void {
  for (const source of config.sourcesLeftOut) {
    const variable = config.sourcesLeftOutBy[source];
    const { why, set } = leftOutSource(configFileName(config), variable);
    logger.warn(
      { source, variable },
      `source "${source}" is not synced: ${why}; ${set} and restart inlet for it to sync`,
    );
  }
}
