import type { Catalog } from '../catalog/index.ts';
import type { QueryEngine } from '../engine/index.ts';
import type { Loader } from '../lake/index.ts';
import type { RunHistory, Scheduler } from '../scheduler/index.ts';
import type { StateStore } from '../state/index.ts';
import type { WalWriter } from '../wal/index.ts';

/** Every part `inlet start` runs in one process, and how to close them. */
export interface RunningInlet {
  url: string;
  apiToken: string;
  wal: WalWriter;
  loader: Loader;
  engine: QueryEngine;
  state: StateStore;
  scheduler: Scheduler;
  runs: RunHistory;
  catalog: Catalog;
  close(): Promise<void>;
}

/** What one inlet process runs; `inlet start` without --role runs them all. */
export const ROLES = ['collector', 'loader', 'web', 'scheduler'] as const;
export type Role = (typeof ROLES)[number];

/** The parts a set of roles started; a part its roles do not need is absent. */
export type RunningRoles = Partial<Omit<RunningInlet, 'state' | 'close'>> &
  Pick<RunningInlet, 'state' | 'close'>;
