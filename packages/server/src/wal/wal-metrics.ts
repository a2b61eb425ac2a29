import type { Logger } from '../log/index.ts';
import type { Counter, Metrics } from '../metrics/index.ts';
import type { RecoveryResult } from './recovery.ts';

/** The counters every WAL of a process (events, logs) shares: what recovery and the loaders found. */
export function walCounters(metrics: Metrics): { recovered: Counter; corrupt: Counter } {
  return {
    recovered: metrics.counter('inlet_wal_recovered_segments_total', 'Segments repaired at start-up'),
    corrupt: metrics.counter(
      'inlet_wal_corrupt_records_total',
      'WAL records skipped for a bad checksum or framing',
    ),
  };
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
