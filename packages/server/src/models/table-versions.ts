import { randomBytes } from 'node:crypto';
import {
  constants,
  copyFileSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { type LakeTable, lakeEntries, parquetLinks, readLakeTable, writeLakeTable } from '../lake/index.ts';

// A mart directory holds immutable versions (v-<id>/…) and a manifest naming the current one. A
// build writes a hidden staging directory, renames it to a version, then replaces the manifest in
// one rename: a reader that planned against the old version keeps reading its files, which stay
// until they have been retired for longer than any query may run.

const VERSION = /^v-\d+-[0-9a-f]+$/;
const RETIRED = '.retired';
const ORPHAN_MS = 3_600_000;

export interface TableVersions {
  dir: string;
  /**
   * The directory of the published version, or undefined for a view, a table never built, or one
   * whose version's folder is a symbolic link (built whole again).
   */
  current(): string | undefined;
  /**
   * The symbolic links among the published version's files (inlet writes none), which neither its
   * view nor the next build reads: *.parquet ones, partition folders, or the version's folder itself.
   */
  links(): string[];
  /** A new empty staging directory for a build. */
  stage(): string;
  /** Makes a staging directory the current version, atomically. */
  publish(staging: string, manifest: Omit<LakeTable, 'files'>): void;
  /** Replaces the manifest with a view definition (no files). */
  publishView(manifest: Omit<LakeTable, 'files'>): void;
  discard(staging: string): void;
  /**
   * Deletes versions retired longer than graceMs ago, and leftovers of builds that crashed. Called
   * by a build that holds the model's build lock, once its own staging directory is gone.
   */
  cleanup(graceMs: number): void;
}

/** dt=YYYY-MM-DD directories in a version (or staging) directory. */
export function partitionDirs(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.startsWith('dt='))
    .sort();
}

/**
 * Carries the partitions that keep(dt) accepts from one version into a staging directory, by hard
 * link. Only files are: inlet writes no symbolic link, and one put among a version's files (in
 * place of a part file) is left out as its view leaves it out (the build names it), where it was
 * carried into each new version, and the staging view read through it failed the build; a copy
 * followed it, bringing in a file from outside the lake. Nor is a partition that is a link entered.
 */
export function linkPartitions(from: string, to: string, keep: (dt: string) => boolean): number {
  let linked = 0;
  for (const { path, entry } of lakeEntries(from)) {
    if (!entry.isDirectory() || !entry.name.startsWith('dt=') || !keep(entry.name.slice(3))) continue;
    for (const file of lakeEntries(path)) {
      if (!file.entry.isFile() || file.entry.name.startsWith('.')) continue;
      mkdirSync(join(to, entry.name), { recursive: true });
      const target = join(to, entry.name, file.entry.name);
      try {
        linkSync(file.path, target);
      } catch {
        // Some file systems have no hard links; a copy is slower but the same. It makes a new
        // file, and never writes through one that is there.
        copyFileSync(file.path, target, constants.COPYFILE_EXCL);
      }
      linked++;
    }
  }
  return linked;
}

export function tableVersions(dir: string): TableVersions {
  const currentName = () => {
    const files = readLakeTable(dir)?.files ?? '';
    const name = files.split('/')[0] ?? '';
    return VERSION.test(name) ? name : undefined;
  };
  // A version's folder, not a symbolic link put in its place (to a copy outside the lake): no
  // query reads through one, and its .retired was written outside the lake.
  const folder = (name: string | undefined) =>
    name && lstatSync(join(dir, name), { throwIfNoEntry: false })?.isDirectory()
      ? join(dir, name)
      : undefined;
  const retire = (name: string | undefined, keep: string | undefined) => {
    const version = name === keep ? undefined : folder(name);
    if (version) writeFileSync(join(version, RETIRED), '');
  };
  return {
    dir,
    current() {
      return folder(currentName());
    },
    links() {
      const name = currentName();
      if (name === undefined) return [];
      const version = join(dir, name);
      if (lstatSync(version, { throwIfNoEntry: false })?.isSymbolicLink()) return [version];
      const partitions = lakeEntries(version).filter(
        ({ entry }) => entry.isSymbolicLink() && entry.name.startsWith('dt='),
      );
      return [...parquetLinks(version, true), ...partitions.map(({ path }) => path)].sort();
    },
    stage() {
      mkdirSync(dir, { recursive: true });
      const staging = join(dir, `.staging-${Date.now()}-${randomBytes(3).toString('hex')}`);
      mkdirSync(staging);
      return staging;
    },
    publish(staging, manifest) {
      const before = currentName();
      const version = `v-${Date.now()}-${randomBytes(3).toString('hex')}`;
      renameSync(staging, join(dir, version));
      writeLakeTable(dir, { ...manifest, files: `${version}/**/*.parquet`, hive_partitioning: false });
      retire(before, version);
    },
    publishView(manifest) {
      mkdirSync(dir, { recursive: true });
      const before = currentName();
      writeLakeTable(dir, { ...manifest, files: '' });
      retire(before, undefined);
    },
    discard(staging) {
      rmSync(staging, { recursive: true, force: true });
    },
    cleanup(graceMs) {
      if (!existsSync(dir)) return;
      const now = Date.now();
      const current = currentName();
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        const age = (file: string) => now - statSync(file).mtimeMs;
        try {
          // Only the build that holds the lock writes one, and no one else reads it: any there now
          // is what a build killed before it published left.
          if (name.startsWith('.staging-')) rmSync(path, { recursive: true, force: true });
          if (!VERSION.test(name) || name === current) continue;
          const retired = join(path, RETIRED);
          if (existsSync(retired) ? age(retired) > graceMs : age(path) > ORPHAN_MS)
            rmSync(path, { recursive: true, force: true });
        } catch {
          // Removed by another process meanwhile.
        }
      }
    },
  };
}
