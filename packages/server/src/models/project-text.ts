import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { utf8Text } from '../config/index.ts';
import { InletError } from '../errors/index.ts';

/**
 * A project file's text (YAML, SQL, Markdown), shown as `shown`. One that is not UTF-8 is refused, as
 * inlet.yaml is: saved in Latin-1 or as UTF-16, it was read with U+FFFD for each byte UTF-8 has not,
 * and a var, a description or a SQL literal became "caf�" without a word.
 */
export function readProjectText(path: string, shown = path): string {
  const bytes = readFileSync(path);
  try {
    return utf8Text(bytes);
  } catch (error) {
    throw new InletError('MODEL_INVALID', `${shown} ${(error as Error).message}.`);
  }
}

/**
 * Whether a folder of the project (models/, seeds/, tests/, a dbt *-paths: entry) is there to be
 * read. A file in its place (models made by touch, an export saved under the folder's name) stopped
 * inlet run with "ENOTDIR: not a directory, scandir", as an error it did not foresee.
 */
export function isProjectFolder(dir: string): boolean {
  if (!existsSync(dir)) return false;
  if (statSync(dir).isDirectory()) return true;
  throw new InletError(
    'MODEL_INVALID',
    `${dir} is a file, where inlet looks for a folder of the project; move the file out of the way and make ${basename(dir)} a folder (or leave it out)`,
  );
}
