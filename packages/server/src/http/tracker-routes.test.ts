import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import Fastify from 'fastify';
import { expect, it } from 'vitest';
import { cleanupAfterEach } from '../../test/cleanups.ts';
import { registerTrackerRoutes } from './tracker-routes.ts';

const cleanups = cleanupAfterEach();

/** An app serving the tracker from a new dist folder of its own; both go after the test. */
function trackerApp() {
  const dist = mkdtempSync(join(tmpdir(), 'inlet-tracker-dist-'));
  const app = Fastify();
  registerTrackerRoutes(app, dist);
  cleanups.push(() => app.close());
  cleanups.push(() => rmSync(dist, { recursive: true, force: true }));
  return { dist, app };
}

it('serves a new build under its hash when /inlet.js was asked for while the build was being written', async () => {
  const { dist, app } = trackerApp();
  /** Writes a file the way the build does, with its own modification time (builds are seconds apart). */
  const write = (file: string, text: string, seconds: number): void => {
    writeFileSync(join(dist, file), text);
    utimesSync(join(dist, file), seconds, seconds);
  };
  const build = (code: string, hash: string, seconds: number, midway: () => Promise<unknown>) => {
    for (const file of readdirSync(dist)) if (/^inlet\.[0-9a-f]{8}\.js$/.test(file)) rmSync(join(dist, file));
    write('inlet.js', code, seconds);
    return midway().then(() => {
      write(`inlet.${hash}.js`, code, seconds);
      write('manifest.json', JSON.stringify({ hashed: `inlet.${hash}.js` }), seconds);
    });
  };
  await build('/* v1 */', 'aaaaaaaa', 1_000, async () => {});
  expect((await app.inject('/inlet.js')).body).toBe('/* v1 */');

  // The build writes inlet.js first and the manifest last; a request in between came first.
  await build('/* v2 */', 'bbbbbbbb', 2_000, () => app.inject('/inlet.js'));
  const pinned = await app.inject('/inlet.bbbbbbbb.js');
  expect(pinned.statusCode).toBe(200);
  expect(pinned.body).toBe('/* v2 */');
  // The old hash, as a snippet pinned to it asks: the message named "build aaaaaaaa.js" (this bare
  // app answers with Fastify's own error body; inlet's handler puts the message under error).
  const old = await app.inject('/inlet.aaaaaaaa.js');
  expect([old.statusCode, old.json().message]).toEqual([
    404,
    '/inlet.aaaaaaaa.js is not the tracker build this inlet serves: the current one is /inlet.bbbbbbbb.js (a snippet pinned to a hash needs the new one after an upgrade; /inlet.js is always the current build).',
  ]);
});

it('never serves the next build under the previous hash, which caches keep for a year', async () => {
  const { dist, app } = trackerApp();
  writeFileSync(join(dist, 'inlet.aaaaaaaa.js'), '/* v1 */');
  writeFileSync(join(dist, 'manifest.json'), JSON.stringify({ hashed: 'inlet.aaaaaaaa.js' }));
  writeFileSync(join(dist, 'inlet.js'), '/* v1 */');
  utimesSync(join(dist, 'inlet.js'), 1_000, 1_000);
  expect((await app.inject('/inlet.aaaaaaaa.js')).body).toBe('/* v1 */');

  // Mid-build: inlet.js is the next version, the manifest still names the previous one.
  writeFileSync(join(dist, 'inlet.js'), '/* v2 */');
  utimesSync(join(dist, 'inlet.js'), 2_000, 2_000);
  const stale = await app.inject('/inlet.aaaaaaaa.js');
  expect(stale.body).not.toBe('/* v2 */');
});

it('sends the tracker gzipped to a browser that takes gzip, and as it is to one that does not', async () => {
  // It was sent as it is to every browser: 8.7 KB a page view, where its budget counts 4 KB gzipped.
  const { dist, app } = trackerApp();
  const code = `/* v1 */ ${'window.inlet = function () {};\n'.repeat(200)}`;
  writeFileSync(join(dist, 'inlet.js'), code);
  writeFileSync(join(dist, 'inlet.aaaaaaaa.js'), code);
  writeFileSync(join(dist, 'manifest.json'), JSON.stringify({ hashed: 'inlet.aaaaaaaa.js' }));
  for (const url of ['/inlet.js', '/inlet.aaaaaaaa.js']) {
    const gzipped = await app.inject({ url, headers: { 'accept-encoding': 'gzip, deflate, br, zstd' } });
    expect([gzipped.headers['content-encoding'], gzipped.headers.vary]).toEqual(['gzip', 'Accept-Encoding']);
    expect(gzipped.rawPayload.length).toBeLessThan(code.length / 4);
    expect(gunzipSync(gzipped.rawPayload).toString()).toBe(code);
    for (const refuses of [undefined, 'br', 'gzip;q=0, identity', '*;q=0']) {
      const plain = await app.inject({ url, headers: refuses ? { 'accept-encoding': refuses } : {} });
      expect([plain.headers['content-encoding'], plain.headers.vary, plain.body]).toEqual([
        undefined,
        'Accept-Encoding',
        code,
      ]);
    }
  }
});
