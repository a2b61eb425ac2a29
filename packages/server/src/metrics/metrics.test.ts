import { describe, expect, it } from 'vitest';
import { createMetrics, MAX_SERIES } from './index.ts';

describe('metrics', () => {
  it('renders counters, gauges and histograms in the Prometheus text format', () => {
    const metrics = createMetrics();
    const requests = metrics.counter('inlet_requests_total', 'Requests', ['route', 'status']);
    requests.inc({ route: '/v1/batch', status: '200' });
    requests.inc({ route: '/v1/batch', status: '200' }, 2);
    requests.inc({ route: 'a"b\\c\nd', status: '400' });
    metrics.gauge('inlet_lag_seconds', 'Lag', () => 1.5);
    const fsync = metrics.histogram('inlet_fsync_seconds', 'Fsync', [0.001, 0.01]);
    fsync.observe(0.005);
    const text = metrics.render();
    expect(text).toContain('inlet_requests_total{route="/v1/batch",status="200"} 3\n');
    expect(text).toContain('inlet_requests_total{route="a_b_c_d",status="400"} 1\n');
    expect(text).toContain('# TYPE inlet_lag_seconds gauge\ninlet_lag_seconds 1.5\n');
    expect(text).toContain(
      'inlet_fsync_seconds_bucket{le="0.001"} 0\ninlet_fsync_seconds_bucket{le="0.01"} 1\n',
    );
    expect(text).toContain('inlet_fsync_seconds_count 1\n');
  });

  it('serves a counter without labels at 0 before its first count, and one with labels only once counted', () => {
    const metrics = createMetrics();
    metrics.counter('inlet_wal_recovered_segments_total', 'Segments');
    const requests = metrics.counter('inlet_requests_total', 'Requests', ['route', 'status']);
    expect(metrics.render()).toMatch(/^inlet_wal_recovered_segments_total 0$/m);
    expect(metrics.render()).not.toMatch(/^inlet_requests_total/m);
    requests.inc({ route: '/v1/batch', status: '200' });
    expect(metrics.render()).toMatch(/^inlet_requests_total\{route="\/v1\/batch",status="200"\} 1$/m);
  });

  it('counts label sets past MAX_SERIES together as _other, so clients cannot grow it without end', () => {
    // POST /logs?source= takes any source name from anyone with a (public) write key.
    const metrics = createMetrics();
    const lines = metrics.counter('inlet_log_rows_total', 'Rows', ['source']);
    for (let i = 0; i < MAX_SERIES + 500; i++) lines.inc({ source: `s${i}` }, 2);
    lines.inc({ source: 's0' });
    expect(lines.get({ source: 's0' })).toBe(3);
    expect(lines.get({ source: `s${MAX_SERIES - 1}` })).toBe(2);
    expect(lines.get({ source: `s${MAX_SERIES}` })).toBe(0);
    expect(lines.get({ source: '_other' })).toBe(1000);
    expect(
      metrics
        .render()
        .split('\n')
        .filter((l) => l.startsWith('inlet_log_rows_total{')),
    ).toHaveLength(MAX_SERIES + 1);
  });
});
