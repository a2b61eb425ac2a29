import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { cleanupAfterEach } from '../../../test/cleanups.ts';
import { tempDir } from '../../../test/helpers.ts';
import { whyNoFile } from './file-glob.ts';

const cleanups = cleanupAfterEach();

it("says why a glob names no file by a walk no longer than a scan's: max_dirs and max_files", () => {
  // It walked the glob's whole tree, however large, to find a file inlet passes over.
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  const deep = join(dir, 'tree/a/b/c');
  mkdirSync(deep, { recursive: true });
  writeFileSync(join(deep, 'x.log.bz2'), 'BZh9');
  const why = `${join(dir, 'tree/**/*.bz2')} matches only files inlet does not read: ${join(deep, 'x.log.bz2')} is a .bz2 file`;
  // tree, a, b and c: 4 directories.
  expect(whyNoFile('tree/**/*.bz2', dir, { maxFiles: 10, maxDirs: 4 })).toContain(why);
  // Past either cap the scan itself says what is wrong; the walk stops there and says nothing.
  expect(whyNoFile('tree/**/*.bz2', dir, { maxFiles: 10, maxDirs: 3 })).toBeUndefined();
  writeFileSync(join(deep, 'y.log.bz2'), 'BZh9');
  expect(whyNoFile('tree/**/*.bz2', dir, { maxFiles: 1, maxDirs: 4 })).toBeUndefined();
  expect(whyNoFile('tree/**/*.bz2', dir, { maxFiles: 2, maxDirs: 4 })).toContain(why);
});
