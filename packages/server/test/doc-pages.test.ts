// What a reader of README.md and docs/ follows: a link to a page or a heading that is not there, or
// an inlet.yaml key that the reference does not name, is a dead end for them, and nothing else notices.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { configSchema } from '../src/config/schema.ts';
import { SOURCE_KINDS } from '../src/sources/index.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const PAGES = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((file) => file.endsWith('.md'))
    .map((file) => `docs/${file}`),
];
const read = (page: string) => readFileSync(join(ROOT, page), 'utf8');
const withoutCode = (text: string) => text.replace(/^ *```[^\n]*\n[\s\S]*?^ *```$/gm, '');

/** The anchors GitHub gives a page's headings: lower case, punctuation but - and _ dropped, a -1 on a repeat. */
function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const [, heading = ''] of withoutCode(text).matchAll(/^#+\s+(.*)$/gm)) {
    const slug = heading
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}_\- ]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(slug);
    anchors.add(count === undefined ? slug : `${slug}-${count + 1}`);
    seen.set(slug, (count ?? -1) + 1);
  }
  return anchors;
}

/** Every key an object schema takes, at any depth, through optional, default, pipe, array and union. */
function keysOf(schema: z.ZodType, keys = new Set<string>()): Set<string> {
  const def = schema._zod.def as unknown as Record<string, unknown>;
  for (const [field, value] of Object.entries(def)) {
    if (field === 'shape' && typeof value === 'object' && value !== null)
      for (const [key, inner] of Object.entries(value)) {
        keys.add(key);
        if (inner instanceof z.ZodType) keysOf(inner, keys);
      }
    else if (value instanceof z.ZodType) keysOf(value, keys);
    else if (Array.isArray(value))
      for (const item of value) if (item instanceof z.ZodType) keysOf(item, keys);
  }
  return keys;
}

describe('the docs', () => {
  it('link only to pages and headings that exist', () => {
    const anchors = new Map(PAGES.map((page) => [page, anchorsOf(read(page))]));
    const broken: string[] = [];
    for (const page of PAGES)
      for (const [, target = ''] of read(page).matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/i.test(target)) continue;
        const [path = '', fragment] = target.split('#');
        const file = path ? relative(ROOT, normalize(join(ROOT, dirname(page), path))) : page;
        if (!existsSync(join(ROOT, file))) broken.push(`${page}: ${target} (no such file)`);
        else if (fragment !== undefined && anchors.has(file) && !anchors.get(file)?.has(fragment))
          broken.push(`${page}: ${target} (no such heading)`);
      }
    expect(broken).toEqual([]);
  });

  it('name every inlet.yaml key, each source kind on its own page', () => {
    const pages: Record<string, string> = {
      csv: 'docs/csv.md',
      file: 'docs/logs.md',
      mysql: 'docs/databases.md',
      postgres: 'docs/databases.md',
    };
    const unnamed = (schema: z.ZodType, page: string) => {
      const text = read(page);
      return [...keysOf(schema)]
        .filter((key) => !new RegExp(`(^|[\\s\`{,.])${key}(:|\`)`, 'm').test(text))
        .map((key) => `${key} (${page})`);
    };
    const missing = [
      ...unnamed(configSchema, 'docs/configuration.md'),
      ...Object.entries(SOURCE_KINDS).flatMap(([type, kind]) =>
        unnamed(kind.options, pages[type] ?? `docs/${type}.md`),
      ),
    ];
    expect(missing).toEqual([]);
  });
});
