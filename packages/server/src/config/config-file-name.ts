import { basename } from 'node:path';
import type { InletConfig } from './load.ts';

/** Whether a configuration file is no file in a folder: a device or a descriptor (/dev/null, /dev/fd/63, /proc/self/fd/0). */
export const isDeviceFile = (path: string): boolean => /^\/(dev|proc)\//.test(path);

/**
 * The configuration file a message says to edit: prod.yaml when --config named it, where messages
 * said inlet.yaml whatever file was read. One that is no file in a folder (/dev/null, a shell's
 * <(envsubst < inlet.tmpl) as /dev/fd/63) by its whole path: its name alone read "null" or "63".
 */
export function configFileName(config: Pick<InletConfig, 'configPath'>): string {
  if (config.configPath === undefined) return 'the configuration file';
  return isDeviceFile(config.configPath) ? config.configPath : basename(config.configPath);
}
