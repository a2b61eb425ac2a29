import { join, relative, sep } from 'node:path';
import { DUCKDB_SCHEMAS } from '../config/index.ts';
import {
  type DamagedManifest,
  type LakeTable,
  parquetLinks,
  TABLE_MANIFEST,
  tableOfFolder,
} from '../lake/index.ts';
import type { ViewDefinition } from './views.ts';

/**
 * Why a table's view cannot have its name: a source named as one of DuckDB's own schemas (from
 * before inlet.yaml refused one). main.marks replaced the view marks, and a schema named memory,
 * temp or system made every name the engine resolves ambiguous, so no query ran at all.
 */
export function refusedName(name: string, configFile: string): string | undefined {
  const schema = name.includes('.') ? name.split('.')[0] : undefined;
  if (schema === undefined || !DUCKDB_SCHEMAS.has(schema)) return undefined;
  return `"${schema}" is a name DuckDB keeps for its own schemas, so no source's table can be the view ${name}; rename the source in ${configFile}, sync it again and move lake/sources/${schema}/ out of the lake`;
}

/**
 * A name two tables of the lake have (a log source's table: named as a mart): either view replaced
 * the other's, and queries read the one or the other without a word. Neither is created.
 */
export function sameName(name: string, dirs: string[], configFile: string): ViewDefinition {
  const refused = `two tables of the lake are named ${name}: ${dirs.join(' and ')}; rename one (a log source's table: in ${configFile}, or a model) and move the other's folder out of the lake`;
  return { name, shape: `refused:${refused}`, sql: '', refused };
}

/**
 * A table whose _table.json is damaged, under the name its folder gives (marts/<name>,
 * sources/<source>/<table> as <source>.<table>, <name> for a log table): it vanished without a
 * word, and a query of it was told the table did not exist yet.
 */
export function damagedManifest(lakeRoot: string, { dir, reason }: DamagedManifest): ViewDefinition {
  const { name } = tableOfFolder(lakeRoot, dir);
  const refused = `its manifest ${join(dir, TABLE_MANIFEST)} cannot be read (${reason}); build or copy the table again (inlet run for a model, inlet sync <source> for a source's table; a log table's is written again with its next records) or restore the file from a backup`;
  return { name, shape: `refused:${refused}`, sql: '', refused };
}

/** Symbolic links named *.parquet among a table's files, at any depth, outside its temporaries (. and _ names). */
export function tableLinks(dir: string): string[] {
  return parquetLinks(dir, true).filter(
    (link) =>
      !relative(dir, link)
        .split(sep)
        .some((part) => part.startsWith('.') || part.startsWith('_')),
  );
}

/**
 * A table whose only files are symbolic links, which no query reads (globWithoutLinks): it had no
 * view, and a query of it was told the table did not exist, as if never built or synced.
 */
export function onlyLinks(name: string, links: string[]): ViewDefinition {
  const refused = `its only files are symbolic links, which inlet does not read (the query engine reads files inside the lake alone): ${links.join(', ')}; copy the files themselves into the lake in place of the links, or build or sync the table again (inlet run <model>, inlet sync <source>)`;
  return { name, shape: `refused:${refused}`, sql: '', refused };
}

/**
 * A source's table or a mart with its manifest and no file: a sync or build always leaves one, an
 * empty table too, so its files were taken away, as a query does with one that is not Parquet (to
 * lake/_rejects/damaged/). It had no view, and a query of it was told it did not exist, and the
 * catalog that its source had not synced it yet. (A log table's days may all go by retention.)
 */
export function filesGone(lake: string, dir: string, table: LakeTable, configFile: string): ViewDefinition {
  const source = table.name.slice(0, table.name.indexOf('.'));
  const again =
    table.kind !== 'source'
      ? `build it again: inlet run ${table.name}`
      : table.files.startsWith('snapshot-')
        ? `copy it again: inlet sync ${source}`
        : `copy it again from the start: an incremental or merge table's sync goes on from its cursor, so set its mode: to full in ${configFile} for one inlet sync ${source}, then back (databases.md)`;
  const refused = `none of its files is left in lake/${relative(lake, dir)}: a file that was not readable Parquet is moved to lake/_rejects/damaged/ by the query that finds it, or one was removed by hand; put them back from a backup, or ${again}`;
  return { name: table.name, shape: `refused:${refused}`, sql: '', refused };
}

/**
 * A model's view whose inputs are not all in the lake (a mart deleted, as docs/models.md says to
 * remove one): it was left out without a word, as if never built, and a query was told it did not
 * exist. unbuilt: the other views left out so, which are in the lake but cannot be read either.
 */
export function inputGone(
  table: LakeTable,
  names: ReadonlySet<string>,
  unbuilt: ReadonlySet<string>,
): ViewDefinition {
  const inputs = (table.depends_on ?? []).filter((dep) => !names.has(dep));
  const said = (gone: string[], why: string) =>
    gone.length > 0 ? [`${gone.join(', ')}, which ${gone.length > 1 ? 'are' : 'is'} ${why}`] : [];
  const reads = [
    ...said(
      inputs.filter((dep) => !unbuilt.has(dep)),
      'not in the lake',
    ),
    ...said(
      inputs.filter((dep) => unbuilt.has(dep)),
      'a view that cannot be read either',
    ),
  ];
  const refused = `it reads ${reads.join(', and ')}; build it again (inlet run +${table.name}), or move lake/marts/${table.name}/ out of the lake if no model makes it any more`;
  return { name: table.name, shape: `refused:${refused}`, sql: '', refused };
}
