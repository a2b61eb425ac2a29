import { readFileSync } from 'node:fs';
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
