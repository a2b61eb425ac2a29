import type { DuckDBConnection } from '@duckdb/node-api';
import type { InletConfig } from '../config/index.ts';
import {
  type DataLayout,
  eventFiles,
  type MovedFile,
  moveForeignEventFiles,
  type ReadLeases,
} from '../lake/index.ts';
import type { ViewBuild } from './set-up-wait.ts';
import { applyViews, DAMAGED_INSIDE, failedViews, unavailableMessage, viewStatements } from './view-apply.ts';
import { discoverViews } from './views.ts';
import { createWalViewCheck } from './wal-view-check.ts';

/** A view's build found a damaged file and moved it: the query is planned again. */
export class Healed extends Error {}

/**
 * Every view to be built again at the next refresh, by a shape none has; the names stay, so one no
 * longer wanted is still dropped.
 */
const stale = (views: Map<string, string>) => new Map([...views.keys()].map((name) => [name, 'stale']));

/**
 * The query engine's views of the lake's tables on its admin connection, built again when files
 * appear or change (refresh, before each query is planned), and those left out because they failed.
 */
export function createViewRefresh(options: {
  config: InletConfig;
  layout: DataLayout;
  admin: DuckDBConnection;
  leases?: Pick<ReadLeases, 'retiring'>;
  onDamagedFile?: (moved: MovedFile, detail: string) => void;
  onViewFailed?: (name: string, detail: string) => void;
}) {
  const { config, layout, admin } = options;
  // View name → shape of the definition it was created from; rebuilt when files appear or change.
  let views = new Map<string, string>();
  /** Views left out because they failed to build: name → why they cannot be queried. */
  const unavailable = new Map<string, { message: string; damaged: boolean }>();
  /** Files of lake/events found to have the events table's keys (lake/foreign.ts). */
  const eventFilesChecked = new Set<string>();
  let refreshing: Promise<void> | undefined;
  /** How far the refresh under way is: what a query that gives up waiting for it is told. */
  let building: ViewBuild | undefined;
  // The WAL's records are in queries only with a good checksum, as in the lake.
  const walCheck = createWalViewCheck(layout.walEvents);
  /** heal(message) moves a damaged file the message names; true stops the refresh to plan again. */
  const refreshViews = async (heal: (message: string) => boolean) => {
    // Before the wait below: no refresh may start between that wait and its own start.
    const wal = await walCheck.files(options.leases?.retiring);
    // Another query's refresh failing is that query's to handle; this one looks again.
    while (refreshing) await refreshing.catch(() => undefined);
    const discover = () =>
      discoverViews(layout, {
        skipWal: options.leases?.retiring,
        dedupWindowHours: config.loader.dedup_window_hours,
        wal,
        configPath: config.configPath,
      });
    let wanted = discover();
    if (viewStatements(views, wanted).length === 0) return;
    const build: ViewBuild = {
      since: performance.now(),
      total: viewStatements(views, wanted).length,
      done: 0,
    };
    building = build;
    refreshing = (async () => {
      // A file of another table in a partition of events would show its rows with empty columns.
      const rows = async (sql: string) => (await admin.runAndReadAll(sql)).getRows();
      const foreign = await moveForeignEventFiles(layout, eventFiles(layout.events), rows, eventFilesChecked);
      for (const moved of foreign) options.onDamagedFile?.(moved, 'no event_id or received_at column');
      if (foreign.length > 0) wanted = discover();
      build.total = viewStatements(views, wanted).length;
      const reasons = new Map<string, { message: string; damaged: boolean }>();
      views = await applyViews(
        async (sql) => {
          await admin.run(sql);
          // A view that failed is dropped too, a statement more.
          build.done = Math.min(build.total, build.done + 1);
        },
        views,
        wanted,
        (view, error) => {
          if (heal(error.message)) throw new Healed(error.message);
          const message = unavailableMessage(view, error);
          if (unavailable.get(view.name)?.message !== message)
            options.onViewFailed?.(view.name, error.message);
          reasons.set(view.name, { message, damaged: DAMAGED_INSIDE.test(error.message) });
        },
      );
      // Views built this time, or no longer wanted, are available or gone; the rest failed before.
      for (const name of unavailable.keys()) if (!failedViews(views).includes(name)) unavailable.delete(name);
      for (const [name, message] of reasons) unavailable.set(name, message);
    })();
    try {
      await refreshing;
    } finally {
      refreshing = undefined;
      building = undefined;
    }
  };
  return {
    refresh: refreshViews,
    /** Every view is built again at the next refresh: a file of one went away or was moved out. */
    rebuild() {
      views = stale(views);
    },
    unavailable,
    building: () => building,
  };
}
