import { closeSync, lstatSync, openSync, readlinkSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { InletError } from '../errors/index.ts';
import { utf8Text } from './utf8-text.ts';

/** The file's text; a directory or an unreadable file is an error that says which. */
/**
 * More than any configuration: 10,000 sites (the most the schema takes) with a few origins each take
 * under 2 MB. A device that never ends (--config /dev/zero, /dev/urandom) was read until memory ran out, and
 * inlet hung meanwhile; 64 MiB of YAML (700,000 sites) took 31 s and 2.7 GB to parse before the schema
 * could refuse it.
 */
const MAX_CONFIG_BYTES = 4 * 2 ** 20;

/** The file's bytes, read up to MAX_CONFIG_BYTES and one more, so that a longer one is told apart. */
function readCapped(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    while (total <= MAX_CONFIG_BYTES) {
      const chunk = Buffer.allocUnsafe(Math.min(2 ** 20, MAX_CONFIG_BYTES + 1 - total));
      const read = readSync(fd, chunk, 0, chunk.length, null);
      if (read === 0) break;
      chunks.push(chunk.subarray(0, read));
      total += read;
    }
    return Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}

/** The configuration file's text; given is --config's argument as typed, undefined for the default inlet.yaml. */
export function readConfigFile(path: string, given: string | undefined): string {
  let bytes: Buffer;
  try {
    bytes = readCapped(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // existsSync() follows links: a loop of them, or one to nothing, read as no file at all.
    if (code === 'ELOOP')
      throw new InletError(
        'CONFIG_NOT_FOUND',
        `Config file ${path} is a symbolic link that leads round in a loop (ELOOP); point it at the configuration file.`,
      );
    if (code === 'ENOENT' && isLink(path))
      throw new InletError(
        'CONFIG_NOT_FOUND',
        `Config file ${path} is a symbolic link to ${readlinkSync(path)}, which does not exist; point it at the configuration file.`,
      );
    if (code === 'EISDIR')
      throw new InletError(
        'CONFIG_NOT_FOUND',
        `Config file ${path} is a directory; give the path of the file itself, such as ${join(path, 'inlet.yaml')}.`,
      );
    throw new InletError(
      'CONFIG_NOT_FOUND',
      `Config file ${path} cannot be read (${code ?? (error as Error).message}); check its permissions.`,
      { cause: error },
    );
  }
  if (bytes.length > MAX_CONFIG_BYTES)
    throw new InletError(
      'CONFIG_INVALID',
      `${path} holds more than ${MAX_CONFIG_BYTES / 2 ** 20} MiB, more than any configuration; ${given === undefined ? "check that it is inlet's configuration file, or name that file with --config FILE" : `check that --config ${given} names inlet's configuration file`}.`,
    );
  try {
    return utf8Text(bytes);
  } catch (error) {
    throw new InletError('CONFIG_INVALID', `${path} ${(error as Error).message}.`);
  }
}

export const isLink = (path: string): boolean =>
  lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink() ?? false;
