// The packages an install brings, against what inlet says of itself (engines) and what it needs of
// them: cookie 2, which light-my-request (fastify's inject) took, wants Node 22, so npm ci on Node 20
// warned EBADENGINE, and on 20.15–20.18 it could not be required at all (an ES module); the root
// package.json's overrides give light-my-request cookie 1.1, which has the stringifySetCookie it calls.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const read = (file: string) => JSON.parse(readFileSync(join(ROOT, file), 'utf8'));

type Version = [number, number, number];

const atLeast = (version: Version, least: Version) =>
  version[0] !== least[0]
    ? version[0] > least[0]
    : version[1] !== least[1]
      ? version[1] > least[1]
      : version[2] >= least[2];

/** 20, 20.15, 20.x or 20.15.1 as a version, a missing or wildcard part 0. */
const versionOf = (text: string): Version => {
  const [major = 0, minor = 0, patch = 0] = text
    .split('.')
    .map((part) => (/^\d+$/.test(part) ? Number(part) : 0));
  return [major, minor, patch];
};

/**
 * Whether an engines range admits a version, in the forms the lock file's ranges take (*, 20.x, >= 20,
 * ^20.19.0, joined by ||); another form is an error, so that none passes unread.
 */
function admits(range: string, version: Version): boolean {
  return range.split('||').some((part) => {
    const text = part.trim().replace(/\s+/g, '');
    if (text === '' || text === '*') return true;
    const wildcard = /^(\d+)\.[x*]$/.exec(text);
    if (wildcard) return version[0] === Number(wildcard[1]);
    const least = /^>=(\d+(?:\.(?:\d+|x)){0,2})$/.exec(text);
    if (least) return atLeast(version, versionOf(least[1] ?? ''));
    const caret = /^\^(\d+\.\d+\.\d+)$/.exec(text);
    if (caret) {
      const from = versionOf(caret[1] ?? '');
      return version[0] === from[0] && atLeast(version, from);
    }
    throw new Error(`engines range "${range}" has a part (${part.trim()}) this test does not read`);
  });
}

describe('dependencies', () => {
  it('reads the forms of range it meets', () => {
    expect(
      [
        ['>=22', [20, 20, 2]],
        ['>= 10.x', [20, 15, 0]],
        ['4.x || >=6.0.0', [20, 15, 0]],
        ['20.x || 22.x', [21, 0, 0]],
        ['^20.19.0 || >=22.12.0', [20, 15, 0]],
        ['^20.19.0 || >=22.12.0', [22, 12, 0]],
        ['*', [20, 15, 0]],
      ].map(([range, version]) => admits(range as string, version as Version)),
    ).toEqual([false, true, true, false, false, true, true]);
    expect(() => admits('<24', [20, 15, 0])).toThrow('this test does not read');
  });

  it('admits, in every package an install for running inlet brings, the oldest Node inlet says it runs on', () => {
    // Dev tools (vite wants 20.19) are the tests', not what inlet runs on.
    const lock = read('package-lock.json') as {
      packages: Record<string, { version?: string; dev?: boolean; engines?: { node?: string } | string[] }>;
    };
    const engines: string = read('package.json').engines.node;
    expect(engines).toMatch(/^>=\s*\d+\.\d+$/);
    const oldest = versionOf(engines.replace('>=', '').trim());
    const refusing = Object.entries(lock.packages).flatMap(([path, entry]) => {
      const range = !entry.dev && !Array.isArray(entry.engines) ? entry.engines?.node : undefined;
      return range !== undefined && !admits(range, oldest)
        ? [`${path.replace(/^.*node_modules\//, '')}@${entry.version} (node ${range})`]
        : [];
    });
    expect(refusing).toEqual([]);
  });

  it("sends the cookies given to fastify's inject, with the cookie light-my-request is given", async () => {
    const app = Fastify();
    app.get('/x/y', async (request) => ({ cookie: request.headers.cookie ?? null }));
    try {
      const sent = await app.inject({ url: '/x/y', cookies: { a: 'b', s: 'a b' } });
      expect(sent.json()).toEqual({ cookie: 'a=b; s=a%20b' });
    } finally {
      await app.close();
    }
  });
});
