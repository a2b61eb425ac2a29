import { basename } from 'node:path';
import type { InletConfig } from './load.ts';

/**
 * The configuration file a message says to edit: prod.yaml when --config named it, where messages
 * said inlet.yaml whatever file was read.
 */
export function configFileName(config: Pick<InletConfig, 'configPath'>): string {
  return config.configPath === undefined ? 'the configuration file' : basename(config.configPath);
}
