import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// What a build of dist/ was made from: a SHA-256 of every file the build reads, written into dist/ as
// the build's last step. A build whose stamp matches the sources can be used as it is, which lets the
// browser tests skip building again what `npm test` or `npm ci` has just built, and still build after
// the tracker is edited, on a clean checkout, or after a build that failed half-way.

/** The package's folder, packages/tracker/. */
export const TRACKER_DIR = fileURLToPath(new URL('..', import.meta.url));
const STAMP = '.sources-sha256';
/** What a build writes that its users read: the collector, the browser tests and bundlers. */
const OUTPUTS = ['inlet.js', 'inlet.mjs', 'manifest.json', 'types/index.d.ts'];

/** SHA-256 of the tracker's sources (not their tests), its build scripts and configs, and the bundlers' versions. */
export function sourcesHash(trackerDir: string = TRACKER_DIR): string {
  const sources = readdirSync(join(trackerDir, 'src'), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'))
    .map((file) => join('src', file));
  const files = [
    ...sources,
    'scripts/build.ts',
    'scripts/build-stamp.ts',
    'scripts/bundle.ts',
    'package.json',
    'tsconfig.json',
    'tsconfig.types.json',
    '../../tsconfig.base.json',
  ].sort();
  const hash = createHash('sha256');
  for (const file of files)
    hash
      .update(`${file}\0`)
      .update(readFileSync(join(trackerDir, file)))
      .update('\0');
  const require = createRequire(join(trackerDir, 'package.json'));
  for (const tool of ['esbuild', 'terser', 'typescript'])
    hash.update(`${tool}@${(require(`${tool}/package.json`) as { version: string }).version}\0`);
  return hash.digest('hex');
}

/** Records in dist/ that its build was made from `hash`; renamed into place, so it is never read half-written. */
export function writeStamp(hash: string, trackerDir: string = TRACKER_DIR): void {
  const dist = join(trackerDir, 'dist');
  writeFileSync(join(dist, `${STAMP}.tmp`), `${hash}\n`);
  renameSync(join(dist, `${STAMP}.tmp`), join(dist, STAMP));
}

/** Forgets what dist/ was built from, before a build starts replacing its files. */
export function clearStamp(trackerDir: string = TRACKER_DIR): void {
  rmSync(join(trackerDir, 'dist', STAMP), { force: true });
}

/** Whether dist/ holds a whole build of the current sources. */
export function isBuildCurrent(trackerDir: string = TRACKER_DIR): boolean {
  const dist = join(trackerDir, 'dist');
  if (!existsSync(join(dist, STAMP)) || !OUTPUTS.every((file) => existsSync(join(dist, file)))) return false;
  return readFileSync(join(dist, STAMP), 'utf8').trim() === sourcesHash(trackerDir);
}
