import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { cleanupAfterEach } from '../../test/cleanups.ts';
import { basicAuth, STEADY, segmentMessage, tempDir, testConfig } from '../../test/helpers.ts';
import { createHttpApp } from '../http/index.ts';
import { createSilentLogger } from '../log/index.ts';
import { createMetrics } from '../metrics/index.ts';
import { createWalWriter } from '../wal/index.ts';
import { createEnricher, createIntake, createIntakeWorkers } from './index.ts';

const fixture = (name: string) =>
  pathToFileURL(join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'intake-workers', name));
const cleanups = cleanupAfterEach();

function pool(script: string) {
  const { dir, cleanup } = tempDir();
  const workers = createIntakeWorkers({
    size: 1,
    data: { config: testConfig(dir), saltDir: join(dir, 'salts') },
    logger: createSilentLogger(),
    script: fixture(script),
  });
  cleanups.push(cleanup, () => workers.close());
  return { dir, workers };
}

const job = () => ({
  protocol: 'segment' as const,
  fixedType: undefined,
  body: new Uint8Array(Buffer.from(JSON.stringify({ batch: [segmentMessage('w-1')] }))),
  meta: { receivedAt: Date.now(), ip: '127.0.0.1', userAgent: undefined, origin: undefined },
  headerWriteKey: undefined,
});

describe('intake worker pool', () => {
  it('fails the jobs of a worker that dies as errors of its own, and restarts it', async () => {
    const { workers } = pool('dies-on-job.mjs');
    const result = await workers.run(job());
    expect(result).toMatchObject({
      ok: false,
      error: { code: undefined, message: 'intake worker exited with 4' },
    });
  });

  it('restarts a worker that dies at start ever more slowly, handing its work back meanwhile', async () => {
    const { workers } = pool('dies-at-start.mjs');
    // Once dead it waits a second or more before the next try, and meanwhile the caller parses the
    // body itself. Asked until then: how soon the worker dies depends on the machine's load.
    await vi.waitFor(() => expect(workers.run(job())).toBeUndefined(), STEADY);
  });

  it('a request whose worker died is answered from the main thread, not with a 500', async () => {
    const { dir, workers } = pool('dies-on-job.mjs');
    const config = testConfig(dir, { collector: { worker_min_bytes: 16 } });
    const metrics = createMetrics();
    const wal = createWalWriter({ dir: join(dir, 'wal'), segmentBytes: 1 << 20, maxBytes: 1 << 30 });
    const intake = createIntake({
      config,
      wal,
      enrich: createEnricher({ saltDir: join(dir, 'salts') }),
      metrics,
    });
    const app = createHttpApp({
      config,
      logger: createSilentLogger(),
      metrics,
      intake,
      workers,
      apiToken: 'x',
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    cleanups.push(
      () => app.close(),
      () => wal.close(),
    );
    const { port } = app.server.address() as { port: number };
    const response = await fetch(`http://127.0.0.1:${port}/v1/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: basicAuth() },
      body: JSON.stringify({ batch: [segmentMessage('fallback-1'), segmentMessage('fallback-2')] }),
    });
    expect(response.status).toBe(200);
    expect(metrics.render()).toContain('inlet_intake_worker_requests_total 1');
    expect(metrics.render()).toContain('inlet_events_accepted_total{site="docs"} 2');
  });
});
