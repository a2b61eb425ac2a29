import { existsSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { DataLayout } from './layout.ts';
import { listLakeTables } from './tables.ts';

/**
 * Retention: the lake's day partitions that have aged out are deleted, as Plausible, Fluent Bit's
 * outputs and every log store let a team choose how long raw data stays. A partition goes once its
 * whole day is more than `days` days before today (UTC): with 30, on 2026-12-03 the last one
 * deleted is dt=2026-11-02, so at least 30 full days are always kept. Marts built from the events
 * are not touched; they are how a team keeps aggregates longer than the raw events.
 */
export interface RetentionDays {
  /** lake/events; 0 keeps every day. */
  events: number;
  /** Hive-partitioned log tables (access_logs, app_logs, …); 0 keeps every day. */
  logs: number;
  /** lake/_rejects (bad input kept with the reason, damaged files); 0 keeps every day. */
  rejects: number;
}

export interface RetentionResult {
  /** Partition directories deleted, relative to the lake. */
  removed: string[];
}

const PARTITION = /^dt=(\d{4}-\d{2}-\d{2})$/;
const DAY_MS = 86_400_000;

/** The first day kept when `days` days are kept, as YYYY-MM-DD (UTC). */
export function firstKeptDay(days: number, now: number): string {
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  return new Date(today - days * DAY_MS).toISOString().slice(0, 10);
}

/** dt=YYYY-MM-DD directories under root, at most `depth` levels down, before the day `before`. */
function expiredPartitions(root: string, before: string, depth: number): string[] {
  if (!existsSync(root)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const day = PARTITION.exec(entry.name)?.[1];
    if (day !== undefined) {
      if (day < before) out.push(join(root, entry.name));
    } else if (depth > 1) {
      out.push(...expiredPartitions(join(root, entry.name), before, depth - 1));
    }
  }
  return out;
}

/**
 * Deletes the partitions of events, log tables and rejects that are older than their retention.
 * A query that listed one of their files meanwhile is planned again without it (the engine retries
 * a file that went away), so nothing else needs to stop.
 */
export async function applyRetention(
  layout: DataLayout,
  days: RetentionDays,
  now = Date.now(),
): Promise<RetentionResult> {
  const expired: string[] = [];
  if (days.events > 0) expired.push(...expiredPartitions(layout.events, firstKeptDay(days.events, now), 1));
  if (days.logs > 0) {
    const before = firstKeptDay(days.logs, now);
    for (const { dir, table } of listLakeTables(layout.lake))
      if (table.kind === 'logs' && table.hive_partitioning)
        expired.push(...expiredPartitions(dir, before, 1));
  }
  // _rejects/<stream>/dt=…, and _rejects/damaged/<the lake path of the file>/dt=….
  if (days.rejects > 0)
    expired.push(...expiredPartitions(layout.rejects, firstKeptDay(days.rejects, now), 4));
  for (const dir of expired) await rm(dir, { recursive: true, force: true });
  return { removed: expired.map((dir) => relative(layout.lake, dir)).sort() };
}
