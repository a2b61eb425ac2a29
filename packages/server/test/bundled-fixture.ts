// A fixture a test starts in a child process (as nobody, say), bundled into one JavaScript file as
// the inlet command's own bundle is (bin/bundle.js). Through tsx each child compiled and loaded the
// hundreds of modules the fixture imports: 2.8–3.4 s a start for test/fixtures/file-log/sync-source.ts
// on 2 cores at a load of 4, where the bundle starts in 1.7 s, most of it DuckDB's library loading.
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { build } from 'esbuild';

const SERVER = join(import.meta.dirname, '..');
const built = new Map<string, Promise<string>>();

/**
 * The path of fixture (a .ts file) bundled into dist/fixtures/<name>.js, built once in this test
 * file's process from the sources as they are now. One directory below dist/, as every source is one
 * below src/, so the paths a source builds from its own directory lead to the same places.
 */
export function bundledFixture(fixture: string): Promise<string> {
  let path = built.get(fixture);
  if (path === undefined) {
    path = bundle(fixture);
    built.set(fixture, path);
  }
  return path;
}

async function bundle(fixture: string): Promise<string> {
  const out = join(SERVER, 'dist', 'fixtures');
  const name = `${basename(fixture, '.ts')}.js`;
  // Built apart, then renamed into place: test files in other processes bundle the same fixture at
  // the same moment, and a child they start must never load a half-written file.
  const tmp = join(SERVER, 'dist', `.fixture-${process.pid}-${built.size}`);
  mkdirSync(tmp, { recursive: true });
  try {
    await build({
      entryPoints: [fixture],
      outfile: join(tmp, name),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      logLevel: 'silent',
    });
    mkdirSync(out, { recursive: true });
    renameSync(join(tmp, name), join(out, name));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return join(out, name);
}
