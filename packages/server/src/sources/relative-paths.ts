import { basename, dirname } from 'node:path';
import type { InletConfig } from '../config/index.ts';

/**
 * Where a source's relative path starts, for a message: it said "relative to inlet.yaml" when
 * --config named prod.yaml, and when no file was read at all.
 */
export function relativePathStart(config: Pick<InletConfig, 'baseDir' | 'configPath'>): string {
  const file = config.configPath;
  const folder =
    file !== undefined && dirname(file) === config.baseDir
      ? `the folder of ${basename(file)}`
      : 'the working directory';
  return `a relative path starts at ${config.baseDir}, ${folder}`;
}
