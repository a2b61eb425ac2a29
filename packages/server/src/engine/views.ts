import { type Dirent, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { configFileName, type InletConfig } from '../config/index.ts';
import {
  type DamagedManifest,
  type DataLayout,
  hasParquetFiles,
  type LakeTable,
  listLakeTables,
} from '../lake/index.ts';
import {
  damagedManifest,
  filesGone,
  inputGone,
  onlyLinks,
  refusedName,
  sameName,
  tableLinks,
} from './view-refusals.ts';
import { eventsView, lakeTableSql } from './view-sql.ts';
import type { WalViewFile } from './wal-view-check.ts';

export interface ViewDefinition {
  /** The view's name, possibly schema-qualified. */
  name: string;
  /** Changes whenever the SQL must be rebuilt. */
  shape: string;
  sql: string;
  /** Defined by SQL (a model's view), not over files of the lake. */
  definedBySql?: boolean;
  /** Why it is never created: its name is not one a view of the lake can have. */
  refused?: string;
  /**
   * The names, sizes and times of the files it reads, which its SQL may not name (a glob): asked
   * only of a view that failed to build, to know whether to try it again.
   */
  files?: () => string;
}

/**
 * The names, sizes and modification times of every file under a table's folder (those being
 * written, under a name that starts with a dot, left out): it changes whenever a file the table's
 * view reads could have.
 */
function filesKey(dir: string): string {
  const listed: string[] = [];
  const walk = (at: string) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(at, { withFileTypes: true });
    } catch {
      return; // removed meanwhile: the key differs from the last, and the view is tried again
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else
        try {
          const stats = statSync(path);
          listed.push(`${path}\t${stats.size}\t${stats.mtimeMs}`);
        } catch {
          // Gone between the listing and the stat.
        }
    }
  };
  walk(dir);
  return listed.sort().join('\n');
}

/**
 * Every view the engine should have now: events, each lake table that has files, then the views
 * defined by SQL. DuckDB binds a view when it is created, so those come last, in dependency order,
 * and only once every table they read exists.
 */
export function discoverViews(
  layout: DataLayout,
  options: {
    skipWal?: (path: string) => boolean;
    /**
     * The WAL segments to read, their checksums verified (wal-view-check.ts); without it, every
     * segment, unverified.
     */
    wal?: WalViewFile[];
    /** loader.dedup_window_hours: the view leaves out the WAL rows the loader will drop as repeats. */
    dedupWindowHours?: number;
    /** The file the configuration was read from, which a refused view's advice names (configFileName). */
    configPath?: InletConfig['configPath'];
  } = {},
): ViewDefinition[] {
  const configFile = configFileName({ configPath: options.configPath });
  const views = [eventsView(layout, options.dedupWindowHours, options.skipWal, options.wal)];
  let pending: LakeTable[] = [];
  const damaged: DamagedManifest[] = [];
  const tables = listLakeTables(layout.lake, damaged);
  const dirsNamed = new Map<string, string[]>();
  for (const { dir, table } of tables) dirsNamed.set(table.name, [...(dirsNamed.get(table.name) ?? []), dir]);
  for (const { dir, table } of tables) {
    const dirs = dirsNamed.get(table.name) ?? [];
    if (dirs.length > 1) {
      if (dir === dirs[0]) views.push(sameName(table.name, dirs, configFile));
      continue;
    }
    if (table.sql !== undefined) {
      pending.push(table);
      continue;
    }
    if (!hasParquetFiles(dir)) {
      const links = tableLinks(dir);
      if (links.length > 0) views.push(onlyLinks(table.name, links));
      else if (table.kind !== 'logs') views.push(filesGone(layout.lake, dir, table, configFile));
      continue;
    }
    const sql = lakeTableSql(dir, table);
    views.push({
      name: table.name,
      shape: sql,
      sql,
      files: () => filesKey(dir),
      refused: refusedName(table.name, configFile),
    });
  }
  for (const manifest of damaged) {
    const view = damagedManifest(layout.lake, manifest);
    if (!dirsNamed.has(view.name)) views.push(view);
  }
  const names = new Set(views.map((v) => v.name));
  for (let progress = true; progress; ) {
    progress = false;
    pending = pending.filter((table) => {
      if (!(table.depends_on ?? []).every((dep) => names.has(dep))) return true;
      views.push({ name: table.name, shape: table.sql ?? '', sql: table.sql ?? '', definedBySql: true });
      names.add(table.name);
      progress = true;
      return false;
    });
  }
  const unbuilt = new Set(pending.map((table) => table.name));
  for (const table of pending) views.push(inputGone(table, names, unbuilt));
  return views;
}
