import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createSiteKeys } from '../../collect/index.ts';
import type { InletConfig } from '../../config/index.ts';
import { createPeriodicLoad, type DataLayout, syncPath } from '../../lake/index.ts';
import { errorFields, type Logger } from '../../log/index.ts';
import type { Metrics } from '../../metrics/index.ts';
import {
  createWalWriter,
  encodeRecord,
  type SkippedReason,
  scanLines,
  segmentPath,
  skippedReason,
  walCounters,
  walDeletedLogger,
  walRecoveredLogger,
  walStrayLogger,
  walWritableLogger,
} from '../../wal/index.ts';
import { joinDockerRecords } from './docker-partials.ts';
import { createHttpRecordMapper, type IntakeItem, type MappedRecord } from './http-log-records.ts';
import { createLogLakeWriter, type LogLakeWriter } from './log-lake-writer.ts';
import { logMetrics } from './log-metrics.ts';
import { createLogRowBuilder } from './log-rows.ts';
import { DEFAULT_TABLE } from './log-tables.ts';
import { createRequestLedger, type LogAnswer } from './request-ledger.ts';

export interface LogIntake {
  /** The site id of a write key; a missing or unknown key is a 401 naming the problem. */
  siteFor(writeKey: string | undefined): string;
  /**
   * Maps the records to rows and resolves once they are fsynced in the log WAL (never before).
   * With a `key` (requestKey of the body), a body accepted within the last hour is answered as it
   * was, and not stored again: Fluent Bit resends a chunk whose answer it did not get.
   */
  accept(items: IntakeItem[], options: { site: string; source: string; key?: string }): Promise<LogAnswer>;
  /** Seals the WAL segment when it is old enough (or now) and writes every sealed one to the lake. */
  runOnce(options?: { sealNow?: boolean }): Promise<void>;
  /** Bytes in log WAL segments not yet written to the lake (they count toward wal.max_bytes). */
  walBytes(): number;
  start(): void;
  stop(): Promise<void>;
}

// Each WAL record is {"k":<kind>,"r":<row>}; the row is written as serialized, never parsed again.
const PREFIXES = {
  access: '{"k":"access","r":',
  app: '{"k":"app","r":',
  reject: '{"k":"reject","r":',
} as const;
const REJECTS_STREAM = 'http_logs';
const FILE_PREFIX = 'http-intake-';

/**
 * The HTTP log intake (Fluent Bit's `http` output): records are mapped to access_logs/app_logs rows
 * at once (so no raw IP is ever written), made durable in their own WAL (data/wal/logs, group
 * commit) before the request is answered, and moved to Parquet by a small loader, named after the
 * segment so a retried load overwrites instead of adding.
 */
export function createLogIntake(options: {
  config: InletConfig;
  layout: DataLayout;
  logger: Logger;
  metrics: Metrics;
  /** Bytes the events WAL holds: both WALs share wal.max_bytes. */
  sharedBytes?: () => number;
}): LogIntake {
  const { config, layout, logger } = options;
  const dir = join(layout.dataDir, 'wal', 'logs');
  const wal = createWalWriter({
    dir,
    segmentBytes: config.wal.segment_bytes,
    maxBytes: config.wal.max_bytes,
    sharedBytes: options.sharedBytes,
    minFreeBytes: config.wal.min_free_bytes,
    onWritableChange: walWritableLogger(logger, 'logs'),
    onSegmentDeleted: walDeletedLogger(logger, 'logs'),
    onRecovered: walRecoveredLogger(logger, options.metrics, 'logs'),
    onStraySegment: walStrayLogger(logger, 'logs'),
  });
  const walCounted = walCounters(options.metrics);
  const siteOfKey = createSiteKeys(
    config,
    'as the HTTP Basic user name, as Authorization: Bearer <key>, as an X-Inlet-Key header or as ?key=',
  );
  const map = createHttpRecordMapper(createLogRowBuilder({ saltDir: layout.salts }), config.timezone, {
    maxEventAgeDays: config.limits.max_event_age_days,
    sites: config.sites,
  });
  const metrics = logMetrics(options.metrics);
  let writer: LogLakeWriter | undefined;
  const ledger = createRequestLedger(join(layout.state, 'log-requests'));
  // A repeat that arrives while its first is still being written waits for that one's answer.
  const pending = new Map<string, Promise<LogAnswer>>();

  const loadSegment = async (segment: number) => {
    const path = segmentPath(dir, segment);
    const data = readFileSync(path);
    const rows = { access: [] as string[], app: [] as string[] };
    const rejects: string[] = [];
    let tag = '0';
    const skipped: Record<SkippedReason, number> = { torn: 0, corrupt: 0, unreadable: 0 };
    for (const line of scanLines(data)) {
      if (tag === '0') tag = data.toString('latin1', line.start + 6, line.start + 14);
      if (!line.check.ok) {
        const raw = data.toString('utf8', line.start, line.end).trimEnd();
        rejects.push(JSON.stringify({ reason: `log WAL record: ${line.check.reason}`, raw, segment }));
        skipped[skippedReason(line.check.reason)]++;
        continue;
      }
      const body = line.check.body.toString('utf8');
      const kind = (Object.keys(PREFIXES) as Array<keyof typeof PREFIXES>).find((k) =>
        body.startsWith(PREFIXES[k]),
      );
      const value = kind ? body.slice(PREFIXES[kind].length, -1) : body;
      if (kind === 'access' || kind === 'app') rows[kind].push(value);
      else if (kind) rejects.push(value);
      else {
        rejects.push(JSON.stringify({ reason: 'unknown log WAL record', raw: body, segment }));
        skipped.unreadable++;
      }
    }
    if (rows.access.length + rows.app.length + rejects.length === 0) {
      // The empty segment a previous run left open: nothing to write, no DuckDB to start.
      rmSync(path);
      syncPath(dir);
      return;
    }
    writer ??= await createLogLakeWriter({
      layout,
      logger,
      compactMinFiles: config.loader.compact_min_files,
    });
    const prepared = await writer.prepare({
      // The segment id and its first checksum: stable for this segment, new if the WAL is ever reset.
      // (No source name holds a '-', so this prefix is no file source's own.)
      base: `${FILE_PREFIX}${String(segment).padStart(16, '0')}-${tag}`,
      tables: [
        { kind: 'access', name: DEFAULT_TABLE.access, rows: rows.access },
        { kind: 'app', name: DEFAULT_TABLE.app, rows: rows.app },
      ],
      rejects: { stream: REJECTS_STREAM, lines: rejects },
    });
    prepared.publish();
    rmSync(path);
    syncPath(dir);
    // Counted once written, as the events loader does: a load that fails is tried again.
    if (skipped.torn + skipped.corrupt + skipped.unreadable > 0) {
      walCounted.skipped(skipped);
      logger.warn(
        { wal: 'logs', segment, ...skipped },
        'corrupt log WAL records skipped and kept in lake/_rejects/http_logs',
      );
    }
    await writer.compact(prepared.paths, FILE_PREFIX);
  };

  const work = async (sealNow: boolean) => {
    if (sealNow || wal.currentAgeMs() >= config.wal.seal_after_ms) await wal.seal();
    for (const segment of wal.sealedSegments()) {
      await loadSegment(segment);
      wal.refresh();
    }
  };

  const periodic = createPeriodicLoad({
    intervalMs: config.loader.interval_ms,
    logger,
    failure: 'writing received log records to the lake failed; will retry',
    pass: work,
  });

  const mapAll = (items: IntakeItem[], site: string, source: string, now: number) =>
    joinDockerRecords(items).map((item) => map(item, source, site, now));

  async function store(records: MappedRecord[], source: string, now: number): Promise<LogAnswer> {
    let out = '';
    let accepted = 0;
    let rejected = 0;
    for (const mapped of records) {
      if ('row' in mapped) {
        out += encodeRecord(`${PREFIXES[mapped.kind]}${mapped.row}}`);
        accepted++;
      } else {
        const reject = JSON.stringify({
          source,
          reason: mapped.reason,
          raw: mapped.raw,
          rejected_at: new Date(now).toISOString(),
        });
        out += encodeRecord(`${PREFIXES.reject}${reject}}`);
        rejected++;
      }
    }
    if (out !== '') await wal.append(out);
    metrics.lines.inc({ source }, accepted);
    if (rejected > 0) metrics.rejects.inc({ source }, rejected);
    return { accepted, rejected };
  }

  return {
    siteFor(writeKey) {
      return siteOfKey(writeKey).id;
    },
    accept(items, { site, source, key }) {
      const now = Date.now();
      if (key === undefined) return store(mapAll(items, site, source, now), source, now);
      const earlier = ledger.answer(key, now) ?? pending.get(key);
      if (earlier) return Promise.resolve(earlier);
      const records = mapAll(items, site, source, now);
      // Only a body whose every record carries its own time is known again by its bytes: the same
      // untimed record posted twice (a script's "disk full" every ten minutes) is two happenings,
      // where a retried chunk names the same moments (Fluent Bit writes its date key in each).
      if (records.some((record) => 'row' in record && !record.timed)) return store(records, source, now);
      const answer = (async () => {
        try {
          const stored = await store(records, source, now);
          try {
            await ledger.remember(key, stored, now);
          } catch (error) {
            // The records are safe in the WAL: answer so, and a retry is stored twice, as before.
            logger.warn(
              errorFields(error),
              'could not write data/state/log-requests; a resent chunk may be stored twice',
            );
          }
          return stored;
        } finally {
          pending.delete(key);
        }
      })();
      pending.set(key, answer);
      return answer;
    },
    runOnce: periodic.runOnce,
    walBytes: () => wal.bytes(),
    start: periodic.start,
    async stop() {
      await periodic.stop();
      try {
        await periodic.runOnce({ sealNow: true });
      } catch (error) {
        logger.error(
          errorFields(error),
          'could not write the last received log records; they stay in the WAL',
        );
      }
      await wal.close();
      await ledger.close();
      writer?.close();
    },
  };
}
