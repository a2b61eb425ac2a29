import { basename } from 'node:path';
import type { InletConfig } from './load.ts';

/** Whether a configuration file is no file in a folder: a device or a descriptor (/dev/null, /dev/fd/63, /proc/self/fd/0). */
export const isDeviceFile = (path: string): boolean => /^\/(dev|proc)\//.test(path);

/**
 * What a message says to edit when no configuration file was read (no ./inlet.yaml, no --config):
 * "the configuration file" sent one running on the defaults looking for a file that is not there.
 */
export const NEW_CONFIG_FILE = 'a new ./inlet.yaml';

/**
 * A key where a message says it is set: "query.max_rows in prod.yaml"; with no file read, "query.max_rows,
 * which a new ./inlet.yaml can set", where "in a new ./inlet.yaml" read as if it were set there.
 */
export const keyIn = (key: string, file: string): string =>
  file === NEW_CONFIG_FILE ? `${key}, which ${NEW_CONFIG_FILE} can set` : `${key} in ${file}`;

/**
 * The configuration file a message says to edit: prod.yaml when --config named it, where messages
 * said inlet.yaml whatever file was read, and NEW_CONFIG_FILE when none was. One that is no file in
 * a folder (/dev/null, a shell's <(envsubst < inlet.tmpl) as /dev/fd/63) by its whole path: its
 * name alone read "null" or "63".
 */
export function configFileName(config: Pick<InletConfig, 'configPath'>): string {
  if (config.configPath === undefined) return NEW_CONFIG_FILE;
  return isDeviceFile(config.configPath) ? config.configPath : basename(config.configPath);
}
