import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../metrics/index.ts';
import type { WalWriter } from '../wal/index.ts';

/** GET /healthz (is the WAL writable) and GET /metrics (Prometheus text). */
export function registerOpsRoutes(
  app: FastifyInstance,
  options: { wal: WalWriter | undefined; metrics: Metrics },
) {
  app.get('/healthz', async (_request, reply) => {
    // While writes fail, a small probe write tells whether the disk takes writes again: a load
    // balancer that took this node out on a 503 sends no traffic that could show it.
    const writable = options.wal ? options.wal.probe() : null;
    // A full WAL is no fault of this process (the loader is behind) and a restart would not help,
    // so it stays 200 with full: true, for monitoring; requests get WAL_FULL meanwhile.
    return reply.code(writable === false ? 503 : 200).send({
      status: writable === false ? 'degraded' : 'ok',
      wal: {
        writable,
        full: options.wal?.full() ?? null,
        bytes: options.wal?.bytes() ?? null,
        // A segment found deleted while open (its folder removed by hand), and written again: the
        // WAL works, but segments removed with it may have held events not yet loaded.
        deleted: options.wal ? (options.wal.deletedSegment() ?? null) : null,
      },
    });
  });
  app.get('/metrics', async (_request, reply) =>
    reply.header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8').send(options.metrics.render()),
  );
}
