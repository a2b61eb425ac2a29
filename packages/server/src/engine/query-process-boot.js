// The query engine's process, when inlet runs from its sources (the tests, or an install that may
// not write its bundle); the bundle builds its own query-process-boot.js from query-process-child.ts.
// It runs that bundle's boot, as the inlet command does, built first if a source is newer (so it is
// these very sources): through tsx instead, each start took twice the CPU (1.2–1.8 s against
// 0.6 s), and the tests start an engine for every server, and every inlet query, they run.
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureBundle } from '../../bin/bundle.js';

let entry;
try {
  entry = pathToFileURL(join(dirname(await ensureBundle()), 'query-process-boot.js')).href;
} catch (error) {
  // Where inlet may not write its bundle, as bin/main.js does: the sources through tsx.
  if (!['EACCES', 'EPERM', 'EROFS'].includes(error?.code)) throw error;
  const { register } = await import('tsx/esm/api');
  register();
  entry = './query-process-child.ts';
}
await import(entry);
