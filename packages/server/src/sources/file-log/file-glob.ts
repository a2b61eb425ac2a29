import { type Dirent, readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve, sep } from 'node:path';

// Node 20 has no fs.glob; log paths need only * ? [...] within a name and ** across directories.

const hasMagic = (part: string) => /[*?[]/.test(part);

function partRegex(part: string): RegExp {
  let re = '';
  for (let i = 0; i < part.length; i++) {
    const ch = part[i] as string;
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else if (ch === '[') {
      const close = part.indexOf(']', i + 1);
      if (close === -1) re += '\\[';
      else {
        const body = part
          .slice(i + 1, close)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\');
        re += `[${body}]`;
        i = close;
      }
    } else re += ch.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

const isFile = (path: string): boolean => {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
};

/** True when `pattern` holds a wildcard. */
export function isGlob(pattern: string): boolean {
  return hasMagic(pattern);
}

/** Regular files (or links to them) matching a glob, absolute or relative to baseDir, sorted; a wildcard skips dot-names. */
export function globFiles(pattern: string, baseDir: string): string[] {
  const absolute = isAbsolute(pattern) ? pattern : resolve(baseDir, pattern);
  const parts = absolute.split(sep);
  const fixed: string[] = [];
  while (parts.length > 0 && !hasMagic(parts[0] as string)) fixed.push(parts.shift() as string);
  const root = fixed.join(sep) || sep;
  const out: string[] = [];
  const walk = (dir: string, rest: string[]) => {
    const [part, ...tail] = rest;
    if (part === undefined) return;
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    if (part === '**') {
      walk(dir, tail);
      for (const entry of entries)
        if (entry.isDirectory() && !entry.name.startsWith('.')) walk(join(dir, entry.name), rest);
      return;
    }
    const re = hasMagic(part) ? partRegex(part) : undefined;
    for (const entry of entries) {
      if (
        re
          ? !re.test(entry.name) || (entry.name.startsWith('.') && !part.startsWith('.'))
          : entry.name !== part
      )
        continue;
      const path = join(dir, entry.name);
      if (tail.length === 0) {
        if (entry.isFile() || (entry.isSymbolicLink() && isFile(path))) out.push(path);
      } else if (entry.isDirectory()) walk(path, tail);
    }
  };
  if (parts.length === 0) {
    // No wildcard: the path itself, when it is a file.
    const parent = fixed.slice(0, -1).join(sep) || sep;
    walk(parent, [fixed.at(-1) as string]);
  } else walk(root, parts);
  return [...new Set(out)].sort();
}
