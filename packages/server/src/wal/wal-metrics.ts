import type { Logger } from '../log/index.ts';
import type { Counter, Metrics } from '../metrics/index.ts';
import type { RecoveryResult } from './recovery.ts';

/**
 * Why a WAL record was skipped, the `reason` label of inlet_wal_corrupt_records_total: `torn` is a
 * last line a crash cut short (expected after one), `corrupt` a complete line whose checksum or
 * framing is wrong (disk damage: worth an alert), `unreadable` a record whose checksum holds but
 * that DuckDB's JSON reader refuses (written by an older collector).
 */
export type SkippedReason = 'torn' | 'corrupt' | 'unreadable';
const SKIPPED_REASONS: readonly SkippedReason[] = ['torn', 'corrupt', 'unreadable'];

export interface WalCounters {
  recovered: Counter;
  corrupt: Counter;
  /** Counts skipped records under their reason; a count of 0 adds nothing. */
  skipped(counts: Partial<Record<SkippedReason, number>>): void;
}

/** The counters every WAL of a process (events, logs) shares: what recovery and the loaders found. */
export function walCounters(metrics: Metrics): WalCounters {
  const corrupt = metrics.counter(
    'inlet_wal_corrupt_records_total',
    'WAL records skipped by the loaders, by reason: torn (a write a crash cut short), corrupt (a bad checksum or framing), unreadable (DuckDB cannot parse it)',
    ['reason'],
  );
  // Every reason served at 0 from the start, so an alert or a rate on one works before its first count.
  for (const reason of SKIPPED_REASONS) corrupt.inc({ reason }, 0);
  return {
    recovered: metrics.counter('inlet_wal_recovered_segments_total', 'Segments repaired at start-up'),
    corrupt,
    skipped(counts) {
      for (const reason of SKIPPED_REASONS) {
        const count = counts[reason] ?? 0;
        if (count > 0) corrupt.inc({ reason }, count);
      }
    },
  };
}

/** The reason label of a bad record a WAL check reported (record.ts: 'torn' or what is wrong). */
export function skippedReason(checkReason: string): SkippedReason {
  return checkReason === 'torn' ? 'torn' : 'corrupt';
}

/** onRecovered for a WAL: counts the segment and logs what recovery cut off and found corrupt. */
export function walRecoveredLogger(
  logger: Logger,
  metrics: Metrics,
  wal: string,
): (segment: number, result: RecoveryResult) => void {
  const { recovered } = walCounters(metrics);
  return (segment, result) => {
    recovered.inc();
    logger.warn({ wal, segment, ...result }, 'recovered a WAL segment after an unclean stop');
  };
}

/** onStraySegment for a WAL: a warning naming the file, which inlet does not read. */
export function walStrayLogger(logger: Logger, wal: string): (path: string) => void {
  return (path) =>
    logger.warn(
      { wal, file: path },
      `${path} is no WAL segment (their names are 16 digits and .log, 0000000000000001.log up to 9007199254740991.log), so its events are not loaded; to load them, stop inlet and rename it to the number after the last segment's, or move it out of the WAL folder`,
    );
}
