// When the collector holds events back and says when to come again: rate limits per client IP and
// per write key, a full WAL, a disk that refuses writes or a WAL folder deleted under it, and a
// visitor-hash salt it cannot read.
import { existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startInlet } from '../src/app/index.ts';
import { listSegments, segmentPath } from '../src/wal/index.ts';
import {
  basicAuth,
  capturingLogger,
  queryApi,
  segmentMessage,
  startTestInlet,
  tempDir,
  testConfig,
  WRITE_KEY,
} from './helpers.ts';

describe('limits and a full WAL', () => {
  it('429 per client IP and per write key, with Retry-After', async () => {
    // Limits of 1 a second, and requests sent together: the bucket refills only after a second, where
    // with 3 a second and requests in turn a loaded machine (other tests, a CI neighbour) took more
    // than the third of a second a token takes, and a fourth request passed.
    const limited = await startTestInlet({
      limits: { per_ip_per_second: 1, per_write_key_per_second: 1000 },
    });
    const responses = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        fetch(`${limited.url}/v1/track`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: basicAuth() },
          body: JSON.stringify(segmentMessage(`rl-${i}`)),
        }),
      ),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 200).length).toBe(1);
    expect(statuses.filter((s) => s === 429).length).toBe(5);
    for (const r of responses) if (r.status === 429) expect(r.headers.get('retry-after')).toBe('1');
    // The pixel, two at once: a bucket of one lets one through at most, and the other is the GIF
    // with its 429.
    const pixels = await Promise.all(
      [1, 2].map((u) => fetch(`${limited.url}/p.gif?k=${WRITE_KEY}&n=email_open&u=${u}`)),
    );
    const pixel = pixels.find((r) => r.status !== 200);
    expect([pixel?.status, pixel?.headers.get('content-type')]).toEqual([429, 'image/gif']);
    expect([pixel?.headers.get('x-inlet-error'), pixel?.headers.get('retry-after')]).toEqual([
      'RATE_LIMITED',
      '1',
    ]);
    await limited.cleanup();

    // 5 events pass with the bucket full and leave 4 to pay back: the next batches wait 4 s and more.
    const perKey = await startTestInlet({ limits: { per_ip_per_second: 0, per_write_key_per_second: 1 } });
    const batch = (n: number) =>
      JSON.stringify({ batch: Array.from({ length: n }, (_, i) => segmentMessage(`k-${n}-${i}`)) });
    const first = await fetch(`${perKey.url}/v1/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: basicAuth() },
      body: batch(5),
    });
    const second = await fetch(`${perKey.url}/v1/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: basicAuth() },
      body: batch(3),
    });
    expect([first.status, second.status]).toEqual([200, 429]);
    // A batch with an invalid message, refused whole by the limit: all its messages count as refused.
    const third = await fetch(`${perKey.url}/v1/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: basicAuth() },
      body: JSON.stringify({ batch: [segmentMessage('k-a'), { type: 'purchase' }, segmentMessage('k-b')] }),
    });
    expect(third.status).toBe(429);
    const metrics = await (await fetch(`${perKey.url}/metrics`)).text();
    expect(metrics).toMatch(/^inlet_events_rejected_total\{reason="RATE_LIMITED"\} 6$/m);
    await perKey.cleanup();
  });

  it('429 after a batch larger than the per-site rate says how long its debt takes to pay back', async () => {
    // 1,000 events at 100 a second pass with the bucket full and leave 900 to pay back: the next
    // event waits about 9 s. Told Retry-After: 1, a client retried into a 429 each second meanwhile.
    const perKey = await startTestInlet({ limits: { per_ip_per_second: 0, per_write_key_per_second: 100 } });
    const send = (n: number) =>
      fetch(`${perKey.url}/v1/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: basicAuth() },
        body: JSON.stringify({
          batch: Array.from({ length: n }, (_, i) => segmentMessage(`debt-${n}-${i}`)),
        }),
      });
    try {
      expect((await send(1000)).status).toBe(200);
      const next = await send(1);
      expect(next.status).toBe(429);
      const wait = Number(next.headers.get('retry-after'));
      expect(wait).toBeGreaterThanOrEqual(5);
      expect(wait).toBeLessThanOrEqual(10);
    } finally {
      await perKey.cleanup();
    }
  });

  it('503 with Retry-After when the WAL is full, and accepts again once the loader caught up', async () => {
    const full = await startTestInlet({ wal: { max_bytes: 4096 }, loader: { interval_ms: 3_600_000 } });
    const send = (i: number) =>
      fetch(`${full.url}/v1/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: basicAuth() },
        body: JSON.stringify({ batch: [segmentMessage(`full-${i}`)] }),
      });
    let response = await send(0);
    for (let i = 1; response.status === 200 && i < 50; i++) response = await send(i);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBeTruthy();
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('WAL_FULL');
    // Healthy (a restart would not help), and says the WAL is full until the loader made room.
    const health = async () => {
      const answer = await fetch(`${full.url}/healthz`);
      return [answer.status, ((await answer.json()) as { wal: { full: boolean } }).wal.full];
    };
    expect(await health()).toEqual([200, true]);
    await full.loader.runOnce({ sealNow: true });
    expect(await health()).toEqual([200, false]);
    expect((await send(999)).status).toBe(200);
    await full.cleanup();
  });

  it('503 with Retry-After and an unhealthy /healthz when the disk refuses a write; nothing acknowledged is lost', async () => {
    const disk = await startTestInlet({ loader: { interval_ms: 3_600_000 } });
    const send = (id: string) =>
      fetch(`${disk.url}/v1/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: basicAuth() },
        body: JSON.stringify({ batch: [segmentMessage(id)] }),
      });
    expect((await send('disk-before')).status).toBe(200);
    // The next segment the WAL opens is /dev/full, where every write fails with ENOSPC, and so is
    // the small file /healthz writes to see whether the disk takes writes again.
    const walDir = join(disk.dataDir, 'wal', 'events');
    const next = segmentPath(walDir, Math.max(...listSegments(walDir)) + 1);
    symlinkSync('/dev/full', next);
    symlinkSync('/dev/full', join(walDir, '.probe'));
    await disk.loader.runOnce({ sealNow: true });
    const refused = await send('disk-refused');
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(await refused.json()).toMatchObject({
      error: { code: 'WAL_UNAVAILABLE', message: expect.stringContaining('the disk is full') },
    });
    expect((await fetch(`${disk.url}/healthz`)).status).toBe(503);
    // With no traffic at all, as when a load balancer took the node out on that 503, /healthz
    // finds out by itself once the disk takes writes again (here: the probe's file is a plain file
    // from the second probe on, a second later).
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await fetch(`${disk.url}/healthz`)).status).toBe(200);
    // The writer leaves the refusing segment for a fresh one, and removes it as it held nothing.
    expect((await send('disk-after')).status).toBe(200);
    expect(existsSync(next)).toBe(false);
    await disk.loader.runOnce({ sealNow: true });
    expect(
      await queryApi(disk.url, "SELECT event_id FROM events WHERE event_id LIKE 'disk-%' ORDER BY 1"),
    ).toEqual([{ event_id: 'disk-after' }, { event_id: 'disk-before' }]);
    await disk.cleanup();
  });
  it('keeps every event it acknowledges when data/wal/events is deleted while it runs, logs it once and /healthz says so', async () => {
    const dir = tempDir();
    const { logger, lines } = capturingLogger<{ segment?: number }>();
    const gone = await startInlet({
      config: testConfig(dir.dir, { loader: { interval_ms: 3_600_000 } }),
      logger,
    });
    const send = (id: string) =>
      fetch(`${gone.url}/v1/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: basicAuth() },
        body: JSON.stringify({ batch: [segmentMessage(id)] }),
      });
    try {
      expect((await send('gone-before')).status).toBe(200);
      // rm -rf data/wal/events, as a clean-up by hand might: the open segment goes with it. The
      // next events were acknowledged into the deleted file and never loaded, with nothing logged.
      rmSync(join(dir.dir, 'wal', 'events'), { recursive: true, force: true });
      const health = await fetch(`${gone.url}/healthz`);
      expect(health.status).toBe(200);
      expect(((await health.json()) as { wal: { deleted: unknown } }).wal.deleted).toMatchObject({
        segment: expect.any(Number),
        at: expect.any(String),
      });
      for (const id of ['gone-1', 'gone-2']) expect((await send(id)).status).toBe(200);
      await gone.loader.runOnce({ sealNow: true });
      expect(
        await queryApi(gone.url, "SELECT event_id FROM events WHERE event_id LIKE 'gone-%' ORDER BY 1"),
      ).toEqual([{ event_id: 'gone-1' }, { event_id: 'gone-2' }, { event_id: 'gone-before' }]);
      expect(lines.filter((line) => line.level >= 50).map((line) => line.msg)).toEqual([
        expect.stringContaining('was deleted while inlet wrote it'),
      ]);
    } finally {
      await gone.close();
      dir.cleanup();
    }
  });
});

describe("the day's visitor-hash salt", () => {
  it('refuses events naming the salt when it is there but cannot be read, logs it once, and takes them once it can', async () => {
    // A folder under its name (or a file of another user) failed every event with a 500 INTERNAL.
    const { logger, lines } = capturingLogger<{ code?: string; error?: string; refusedRequests?: number }>();
    const fresh = await startTestInlet({}, logger);
    try {
      const salt = join(fresh.dataDir, 'state', 'salts', `${new Date().toISOString().slice(0, 10)}.salt`);
      mkdirSync(salt, { recursive: true });
      const send = (id: string) =>
        fetch(`${fresh.url}/v1/batch`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: basicAuth() },
          body: JSON.stringify({ batch: [segmentMessage(id)] }),
        });
      const refused = await send('salt-1');
      expect(refused.status).toBe(503);
      expect(await refused.json()).toEqual({
        error: {
          code: 'SALT_UNREADABLE',
          message: expect.stringContaining(`The visitor-hash salt ${salt} cannot be read (EISDIR`),
        },
      });
      // The 503s went to the clients only: the log said nothing. It says so once, not per request.
      expect((await send('salt-1b')).status).toBe(503);
      expect(lines.filter((line) => line.level >= 50)).toEqual([
        expect.objectContaining({
          code: 'SALT_UNREADABLE',
          error: expect.stringContaining(`The visitor-hash salt ${salt} cannot be read (EISDIR`),
          refusedRequests: 1,
          msg: 'events are refused (503) until this is fixed',
        }),
      ]);
      rmSync(salt, { recursive: true });
      expect((await send('salt-2')).status).toBe(200);
      expect(await queryApi(fresh.url, "SELECT event_id FROM events WHERE event_id LIKE 'salt-%'")).toEqual([
        { event_id: 'salt-2' },
      ]);
    } finally {
      await fresh.cleanup();
    }
  });
});
