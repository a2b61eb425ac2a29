import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { gunzipSync } from 'node:zlib';
import Fastify from 'fastify';
import { expect, it } from 'vitest';
import { cleanupAfterEach } from '../../test/cleanups.ts';
import { tempDir, testConfig, WRITE_KEY } from '../../test/helpers.ts';
import { registerSdkRoutes } from './sdk-routes.ts';

const cleanups = cleanupAfterEach();

it("sends analytics.js and its chunks gzipped to a browser that takes gzip, as Segment's CDN does", async () => {
  // 114 KB a page view as it was, where Segment's CDN sends about 35 KB.
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  const app = Fastify();
  cleanups.push(() => app.close());
  registerSdkRoutes(app, testConfig(dir));
  const url = `/analytics.js/v1/${WRITE_KEY}/analytics.min.js`;
  const plain = await app.inject({ url });
  expect([plain.statusCode, plain.headers['content-encoding'], plain.headers.vary]).toEqual([
    200,
    undefined,
    'Accept-Encoding',
  ]);
  const gzipped = await app.inject({ url, headers: { 'accept-encoding': 'gzip, deflate, br, zstd' } });
  expect([gzipped.headers['content-encoding'], gzipped.headers.vary]).toEqual(['gzip', 'Accept-Encoding']);
  expect(gzipped.rawPayload.length).toBeLessThan(plain.rawPayload.length / 2);
  expect(gunzipSync(gzipped.rawPayload).equals(plain.rawPayload)).toBe(true);
  // A chunk analytics.js loads later, under its content hash.
  const umd = dirname(
    createRequire(import.meta.url).resolve('@segment/analytics-next/dist/umd/standalone.js'),
  );
  const chunk = readdirSync(umd).find((file) => /\.bundle\.[0-9a-f]{8,}\.js$/.test(file));
  const chunked = await app.inject({
    url: `/analytics-next/bundles/${chunk}`,
    headers: { 'accept-encoding': 'gzip' },
  });
  expect([chunked.statusCode, chunked.headers['content-encoding']]).toEqual([200, 'gzip']);
});
