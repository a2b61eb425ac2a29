import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cleanupAfterEach } from '../../test/cleanups.ts';
import { tempDir } from '../../test/helpers.ts';
import { walRecord } from '../../test/lake-fixtures.ts';
import { createSilentLogger } from '../log/index.ts';
import { checkSegmentHere, createSegmentChecker } from './segment-checker.ts';

const cleanups = cleanupAfterEach();

/** A segment of good records, one corrupt record in the middle and a torn tail. */
function segment(): string {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  const good = (id: string, ts: string) => walRecord({ event_id: id, ts });
  const corrupt = good('c', '2026-11-20T10:00:00.000Z').replace('"event_id":"c"', '"event_id":"x"');
  const path = join(dir, 'segment.log');
  writeFileSync(
    path,
    good('a', '2026-11-20T10:00:00.000Z') +
      corrupt +
      good('b', '2026-11-21T00:00:01.000Z') +
      good('a', '2026-11-20T10:00:00.000Z') +
      '{"c":"0000',
  );
  return path;
}

describe('segment checker', () => {
  it('gives on its thread what a check on the main thread gives: lines, bad records, stats', async () => {
    const path = segment();
    const checker = createSegmentChecker({ logger: createSilentLogger() });
    cleanups.push(() => checker.close());
    const here = await checkSegmentHere(path);
    const threaded = await checker.check(path);
    expect(threaded).toEqual(here);
    expect(threaded.lines).toBe(4);
    expect(threaded.bad.map((b) => b.reason)).toEqual(['checksum mismatch', 'torn']);
    expect(threaded.stats).toMatchObject({ rows: 3, distinctIds: 2, dts: ['2026-11-20', '2026-11-21'] });
    expect(threaded.stats?.idHashes).toBeInstanceOf(Float64Array);
    // The thread serves the next check too, and reports a missing file as the main thread would.
    expect(await checker.check(path)).toEqual(here);
    await expect(checker.check(join(path, '..', 'gone.log'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('checks on the main thread when its thread dies under a check', async () => {
    const path = segment();
    const checker = createSegmentChecker({
      logger: createSilentLogger(),
      script: pathToFileURL(
        join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'segment-check', 'dies-on-job.mjs'),
      ),
    });
    cleanups.push(() => checker.close());
    expect(await checker.check(path)).toEqual(await checkSegmentHere(path));
    expect(await checker.check(path)).toEqual(await checkSegmentHere(path));
  });
});
