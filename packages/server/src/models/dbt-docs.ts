import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { InletError } from '../errors/index.ts';
import type { ModelConfig } from './model-config.ts';
import { isProjectFolder, readProjectText } from './project-text.ts';

// dbt's doc blocks: {% docs name %}…{% enddocs %} in .md files, which a description names with
// {{ doc('name') }}. Without them the catalog would show the tag itself as the description.

const BLOCK = /\{%-?\s*docs\s+([A-Za-z_][\w]*)\s*-?%\}([\s\S]*?)\{%-?\s*enddocs\s*-?%\}/g;
const DOC = /\{\{-?\s*doc\(\s*(?:'([^']*)'|"([^"]*)")\s*\)\s*-?\}\}/g;

/** A project's doc blocks by name, and where they were looked for (for the error naming a missing one). */
export interface DocBlocks {
  texts: Map<string, string>;
  dirs: string[];
}

function markdownUnder(dir: string): string[] {
  if (!isProjectFolder(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name.startsWith('.')) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return markdownUnder(path);
    return entry.name.endsWith('.md') ? [path] : [];
  });
}

/** Reads every {% docs %} block of the .md files under dirs; a name given twice fails with both files. */
export function readDocBlocks(dirs: string[]): DocBlocks {
  const texts = new Map<string, string>();
  const files = new Map<string, string>();
  for (const path of dirs.flatMap(markdownUnder).sort())
    for (const [, name = '', text = ''] of readProjectText(path).matchAll(BLOCK)) {
      const other = files.get(name);
      if (other)
        throw new InletError(
          'MODEL_INVALID',
          `Two doc blocks are named ${name}: in ${other} and in ${path}; rename one.`,
        );
      files.set(name, path);
      texts.set(name, text.trim());
    }
  return { texts, dirs };
}

/** The text with each {{ doc('name') }} replaced by its block. */
function withDocs(text: string, blocks: DocBlocks, where: string): string {
  return text.replace(DOC, (_whole, single: string | undefined, double: string | undefined) => {
    const name = single ?? double ?? '';
    const found = blocks.texts.get(name);
    if (found === undefined)
      throw new InletError(
        'MODEL_INVALID',
        `${where} names {{ doc('${name}') }}, and no .md file under ${blocks.dirs.join(', ')} has {% docs ${name} %}…{% enddocs %}; add the block, or correct the name.`,
      );
    return found;
  });
}

/** The configuration with the doc blocks its descriptions name put in their place. */
export function describeWithDocs(config: ModelConfig, blocks: DocBlocks, file: string): ModelConfig {
  const description = config.description && withDocs(config.description, blocks, `${file} description`);
  const columns = Object.fromEntries(
    Object.entries(config.columns).map(([name, value]) => {
      const where = `${file} columns.${name}`;
      if (typeof value === 'string') return [name, withDocs(value, blocks, where)];
      return [
        name,
        value.description ? { ...value, description: withDocs(value.description, blocks, where) } : value,
      ];
    }),
  );
  return { ...config, ...(description !== undefined ? { description } : {}), columns };
}
