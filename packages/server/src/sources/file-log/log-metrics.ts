import type { Counter, Metrics } from '../../metrics/index.ts';

export interface LogMetrics {
  lines: Counter;
  rejects: Counter;
}

// One set per registry: every source and the HTTP intake share the same counters, with labels.
const registered = new WeakMap<Metrics, LogMetrics>();

/** The log counters of a metrics registry, created on first use. */
export function logMetrics(metrics: Metrics): LogMetrics {
  let found = registered.get(metrics);
  if (!found) {
    found = {
      lines: metrics.counter('inlet_log_rows_total', 'Log lines and records written to the lake, by source', [
        'source',
      ]),
      rejects: metrics.counter(
        'inlet_log_rejects_total',
        'Log lines and records refused (kept in lake/_rejects), by source',
        ['source'],
      ),
    };
    registered.set(metrics, found);
  }
  return found;
}
