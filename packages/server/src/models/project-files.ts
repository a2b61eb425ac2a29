import { existsSync, readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { parseYamlStrictly, yamlErrorLine } from '../config/index.ts';
import { InletError } from '../errors/index.ts';
import { isPropertiesFile } from './dbt-properties.ts';
import { isProjectFolder, readProjectText } from './project-text.ts';

// The files of a project: where its models, seeds and tests are, the YAML beside them, and the
// names their files give them.

const NAME = /^[a-z][a-z0-9_]{0,62}$/;
/** Names the lake already uses for raw data; a model by that name would hide it. */
const RESERVED = new Set(['events', 'access_logs', 'app_logs']);

// A file or folder whose name begins with _ is read, as dbt reads it. Passed over, models/_base.sql
// made ref('_base') say that no model defines it, and dbt's models/_legacy/ lost its models silently.
function filesUnder(dir: string, extension: string): string[] {
  if (!isProjectFolder(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(path, extension));
    else if (entry.name.endsWith(extension)) out.push(path);
  }
  return out.sort();
}

/** The files of each kind under each of the folders given for it (dbt's model-paths: and the like). */
export const filesIn = (dirs: string[], extension: string) =>
  dirs.flatMap((dir) => filesUnder(dir, extension));

/** The folders from whichever of dirs holds the file down to it. */
export function foldersOf(path: string, dirs: string[]): string[] {
  const root = dirs.find((dir) => !relative(dir, path).startsWith('..'));
  return root === undefined ? [] : relative(root, path).split(sep).slice(0, -1);
}

function readYaml(path: string, shown: string): unknown {
  const text = readProjectText(path, shown);
  try {
    return parseYamlStrictly(text);
  } catch (error) {
    throw new InletError('MODEL_INVALID', `${shown} is not valid YAML: ${yamlErrorLine(error)}`);
  }
}

/**
 * The configuration beside a file: <name>.yaml or <name>.yml, if present, and how to name that
 * file. A dbt properties file of that name is not one: readProperties reads it.
 */
export function siblingYaml(path: string, shown: string): { raw: unknown; shown: string } | undefined {
  const stem = path.replace(/\.(sql|csv)$/, '');
  for (const extension of ['.yaml', '.yml'])
    if (existsSync(stem + extension)) {
      const file = shown.replace(/\.(sql|csv)$/, extension);
      const raw = readYaml(stem + extension, file);
      if (!isPropertiesFile(raw)) return { raw, shown: file };
    }
  return undefined;
}

/** Refuses a model's or a seed's name (from its file's) that cannot be a view of the lake. */
export function checkName(name: string, shown: string, kind: 'model' | 'seed' = 'model'): void {
  if (name.length > 63 && /^[a-z][a-z0-9_]*$/.test(name))
    throw new InletError(
      'MODEL_INVALID',
      `${shown}: "${name}" is ${name.length} characters long; a ${kind} name has at most 63.`,
    );
  if (!NAME.test(name))
    throw new InletError(
      'MODEL_INVALID',
      `${shown}: "${name}" is not a ${kind} name; use lower-case letters, digits and _, starting with a lower-case letter.`,
    );
  if (RESERVED.has(name))
    throw new InletError(
      'MODEL_INVALID',
      `${shown}: "${name}" is the name of a raw lake table; rename the ${kind === 'seed' ? 'seed (its file)' : 'model'}.`,
    );
}
