import { parentPort } from 'node:worker_threads';
import { verifySegmentFile } from '../wal/index.ts';
import type { SegmentCheckJob, SegmentCheckResult } from './segment-checker.ts';
import { createSegmentStats } from './segment-stats.ts';

// The loader's checksum thread: reads a sealed segment, verifies every record and gathers its
// stats, away from the main thread, whose event loop the collector needs for its requests.

parentPort?.on('message', async ({ id, path }: SegmentCheckJob) => {
  let result: SegmentCheckResult;
  try {
    const stats = createSegmentStats();
    const verified = await verifySegmentFile(path, { visit: stats.visit });
    result = { id, ok: true, ...verified, stats: stats.result() };
  } catch (error) {
    result = { id, ok: false, message: (error as Error).message, code: (error as { code?: string }).code };
  }
  const hashes = result.ok ? result.stats?.idHashes : undefined;
  parentPort?.postMessage(result, hashes ? [hashes.buffer as ArrayBuffer] : []);
});
