import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const folder = import.meta.dirname;

/** The files of this folder each one imports (types too: a type-only cycle is a cycle to read). */
function importsOf(file: string): string[] {
  const text = readFileSync(join(folder, file), 'utf8');
  return [...text.matchAll(/\bfrom '\.\/([^']+\.ts)'/g)].map((m) => m[1] ?? '');
}

/** A cycle of imports through the file, as the files in order, or undefined. */
function cycleFrom(start: string, graph: Map<string, string[]>): string[] | undefined {
  const walk = (file: string, path: string[]): string[] | undefined => {
    for (const next of graph.get(file) ?? []) {
      if (next === start) return [...path, next];
      if (path.includes(next)) continue;
      const found = walk(next, [...path, next]);
      if (found) return found;
    }
    return undefined;
  };
  return walk(start, [start]);
}

describe('the catalog folder', () => {
  it('has no import cycle between its files (not-built.ts and catalog.ts imported each other)', () => {
    const files = readdirSync(folder).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    const graph = new Map(files.map((f) => [f, importsOf(f)]));
    const cycles = files.map((f) => cycleFrom(f, graph)).filter((c) => c !== undefined);
    expect(cycles.map((c) => c.join(' → '))).toEqual([]);
  });
});
