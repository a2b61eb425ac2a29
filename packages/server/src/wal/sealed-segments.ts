import { listSegments } from './segment-files.ts';

/** What the loader needs from the WAL: the segments it may load, and a way to close the current one. */
export interface WalSegments {
  sealedSegments(): number[];
  seal(): Promise<void>;
  currentAgeMs(): number;
  refresh(): void;
}

/**
 * The WAL as a loader in another process sees it (`inlet start --role loader`): the collector
 * writes only into the newest segment, so every older one is complete. Sealing is the collector's
 * job (it seals by age), so seal() has nothing to do here.
 */
export function createSealedSegments(dir: string): WalSegments {
  return {
    sealedSegments: () => listSegments(dir).slice(0, -1),
    seal: async () => {},
    currentAgeMs: () => 0,
    refresh: () => {},
  };
}
