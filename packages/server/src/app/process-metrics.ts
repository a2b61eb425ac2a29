import type { Metrics } from '../metrics/index.ts';

const LAG_TIMER_MS = 10;

/** The process's memory, under the names Prometheus' Node.js exporters use. */
export function registerProcessMetrics(metrics: Metrics): () => void {
  metrics.gauge('process_resident_memory_bytes', 'Resident memory of this process', () =>
    process.memoryUsage.rss(),
  );
  const memory = (key: 'heapUsed' | 'heapTotal' | 'external') => () => process.memoryUsage()[key];
  metrics.gauge('nodejs_heap_size_used_bytes', 'V8 heap in use', memory('heapUsed'));
  metrics.gauge('nodejs_heap_size_total_bytes', 'V8 heap reserved', memory('heapTotal'));
  metrics.gauge(
    'nodejs_external_memory_bytes',
    'Memory of buffers and other objects outside the V8 heap',
    memory('external'),
  );
  // How late the event loop ran a 10 ms timer: a stall here holds up every request the collector
  // has in hand. Measured by a timer of its own rather than perf_hooks' monitorEventLoopDelay,
  // whose reset() drops the interval it falls in, so a stall that began right after a scrape
  // went unreported.
  const delay = metrics.histogram(
    'inlet_event_loop_delay_seconds',
    'How late the event loop ran a 10 ms timer',
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
  );
  let longest = 0;
  metrics.gauge(
    'inlet_event_loop_delay_max_seconds',
    'Longest event loop delay since the previous scrape',
    () => {
      const value = longest;
      longest = 0;
      return value;
    },
  );
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    const late = Math.max(0, now - last - LAG_TIMER_MS) / 1000;
    last = now;
    delay.observe(late);
    longest = Math.max(longest, late);
  }, LAG_TIMER_MS);
  timer.unref();
  return () => clearInterval(timer);
}
