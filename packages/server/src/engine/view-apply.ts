import { createHash } from 'node:crypto';
import { DAMAGED_INSIDE, NO_PERMISSION, noPermissionAdvice } from '../lake/index.ts';
import type { ViewDefinition } from './views.ts';

/** A view's name, possibly schema-qualified (crm.customers). */
const quoteName = (name: string) =>
  name
    .split('.')
    .map((part) => `"${part.replaceAll('"', '""')}"`)
    .join('.');

/**
 * DuckDB's words for a file that went away between a view's listing and its reading: a WAL segment
 * loaded and deleted, or Parquet files compaction merged. Not the table's fault: planned again.
 */
export const FILE_RACE = /No files found|Cannot open file(?!.*: Permission denied)|No such file/;

export { DAMAGED_INSIDE, NO_PERMISSION, noPermissionAdvice };

/** The shape of a view left out because it failed to build: never any definition's own shape. */
const FAILED = 'failed:';

/**
 * DuckDB's words for a failure of the moment, not of the view: memory other queries held, files the
 * process could not open then, an interrupt, or a damaged file a query moves out of the lake (up to
 * ten a query, so the next query moves the rest). Such a view is tried again at the next refresh.
 */
const PASSING_FAILURE =
  /^(Out of Memory Error|IO Error|INTERRUPT)|Interrupted|Too many open files|too small to be a Parquet file|No magic bytes found|Footer length error/m;

/**
 * What a view that failed to build is remembered by: its SQL, the files it reads, and for a view
 * defined by SQL, the views before it (what it may read). Until one of those changes it would fail
 * the same way, so it is not tried again: building a table's view reads the footer of each of its
 * files, and every query did that again for a table DuckDB refuses.
 */
function failedShapes(after: ViewDefinition[]): Map<string, string> {
  const shapes = new Map<string, string>();
  const before = createHash('sha256');
  for (const view of after) {
    const hash = view.definedBySql ? before.copy() : createHash('sha256');
    const files = view.files?.() ?? '';
    hash.update(`${view.shape}\0${files}`);
    shapes.set(view.name, `${FAILED}${hash.digest('hex')}`);
    before.update(`${view.name}\0${view.shape}\0${files}\0`);
  }
  return shapes;
}

/**
 * A view's failed shape by name, worked out at the first asking, and only when a view failed
 * before or fails now (always): every other refresh lists no table's files for it.
 */
function failedShapesOf(
  before: Map<string, string>,
  after: ViewDefinition[],
): (name: string, always?: boolean) => string | undefined {
  let shapes: Map<string, string> | undefined;
  const anyFailed = [...before.values()].some((shape) => shape.startsWith(FAILED));
  return (name, always = false) => {
    if (!anyFailed && !always) return undefined;
    shapes ??= failedShapes(after);
    return shapes.get(name);
  };
}

/** The names of views left out of a name → shape map because they failed to build. */
export function failedViews(applied: Map<string, string>): string[] {
  return [...applied].filter(([, shape]) => shape.startsWith(FAILED)).map(([name]) => name);
}

/** Why a view left out of the engine cannot be queried, and what to do about it. */
export function unavailableMessage(view: ViewDefinition, error: Error): string {
  if (view.refused !== undefined)
    return `"${view.name}" cannot be queried: ${view.refused}. Every other table can still be queried.`;
  const detail = (error.message.split('\n')[0] ?? '').replace(/\.$/, '');
  const denied = NO_PERMISSION.exec(detail)?.[1];
  if (denied !== undefined)
    return `"${view.name}" cannot be queried now: ${noPermissionAdvice(denied)}. Every other table can still be queried.`;
  if (DAMAGED_INSIDE.test(detail))
    return `"${view.name}" cannot be queried now: a Parquet file of it is damaged inside and DuckDB does not say which (${detail}); it fails until that file is moved out of the lake or restored from a backup. Every other table can still be queried.`;
  return view.definedBySql
    ? `"${view.name}" cannot be queried now: its SQL no longer runs over what it reads (${detail}). Every other table can still be queried; fix the model and run inlet run ${view.name} again.`
    : `"${view.name}" cannot be queried now: DuckDB cannot build its view over the table's files (${detail}). Every other table can still be queried. Check the table's files and its _table.json in the lake (a merge key, cursor or deleted column it names must be a column of the files), or sync or load it again; the log has the whole error.`;
}

/**
 * Brings a DuckDB's views from `before` to `after` through run() and returns the new name → shape
 * map. A view that fails to build (an upstream column went away, a manifest names a column its
 * files lack, files DuckDB refuses) is dropped and left out, so it is tried again next time, and
 * no other view or query suffers for it; failed() hears why, and may throw to stop everything
 * instead. A file that went away meanwhile (FILE_RACE) is no fault of the view: that throws.
 */
export async function applyViews(
  run: (sql: string) => Promise<unknown>,
  before: Map<string, string>,
  after: ViewDefinition[],
  failed?: (view: ViewDefinition, error: Error) => void,
): Promise<Map<string, string>> {
  const failedShape = failedShapesOf(before, after);
  // A view that failed before and is not tried again stays failed.
  const applied = new Map(
    after.map((v) => {
      const shape = before.get(v.name);
      return [v.name, shape?.startsWith(FAILED) && shape === failedShape(v.name) ? shape : v.shape];
    }),
  );
  for (const change of viewChanges(before, after)) {
    if (change.view?.refused !== undefined) {
      failed?.(change.view, new Error(change.view.refused));
      // One of its name from before (a model's build put its new rows under the name) would be
      // read in its place. None ever had a name under DuckDB's own schemas, so nothing of DuckDB's
      // own is dropped.
      if (before.has(change.view.name) && !before.get(change.view.name)?.startsWith(FAILED))
        await run(`DROP VIEW IF EXISTS ${quoteName(change.view.name)}`);
      applied.set(change.view.name, failedShape(change.view.name, true) || FAILED);
      continue;
    }
    try {
      await run(change.sql);
    } catch (error) {
      if (!change.view || FILE_RACE.test((error as Error).message)) throw error;
      failed?.(change.view, error as Error);
      // A view of the same name from before would read what its definition no longer says.
      await run(`DROP VIEW IF EXISTS ${quoteName(change.view.name)}`);
      // A shape no definition has: tried again once what it is built from changes (at the next
      // refresh after a failure of the moment), dropped once it is no longer wanted.
      const passing = PASSING_FAILURE.test((error as Error).message);
      applied.set(change.view.name, (!passing && failedShape(change.view.name, true)) || FAILED);
    }
  }
  return applied;
}

/** The statements that bring the engine's views from `before` to `after`. */
export function viewStatements(before: Map<string, string>, after: ViewDefinition[]): string[] {
  return viewChanges(before, after).map((change) => change.sql);
}

function viewChanges(
  before: Map<string, string>,
  after: ViewDefinition[],
): Array<{ sql: string; view?: ViewDefinition }> {
  const changes: Array<{ sql: string; view?: ViewDefinition }> = [];
  const names = new Set(after.map((v) => v.name));
  const failedShape = failedShapesOf(before, after);
  // One that failed was dropped then, or never created: DROP VIEW memory.marks would drop marks.
  for (const [name, shape] of before)
    if (!names.has(name) && !shape.startsWith(FAILED))
      changes.push({ sql: `DROP VIEW IF EXISTS ${quoteName(name)}` });
  for (const view of after) {
    const applied = before.get(view.name);
    if (applied === view.shape || (applied?.startsWith(FAILED) && applied === failedShape(view.name)))
      continue;
    if (view.refused !== undefined) {
      changes.push({ sql: `-- ${view.name} is left out: ${view.refused}`, view });
      continue;
    }
    const schema = view.name.includes('.') ? view.name.split('.')[0] : undefined;
    if (schema) changes.push({ sql: `CREATE SCHEMA IF NOT EXISTS ${quoteName(schema)}` });
    changes.push({ sql: `CREATE OR REPLACE VIEW ${quoteName(view.name)} AS ${view.sql}`, view });
  }
  return changes;
}
