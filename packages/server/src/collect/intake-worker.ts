import { parentPort, workerData } from 'node:worker_threads';
import type { InletConfig } from '../config/index.ts';
import { type ErrorCode, InletError } from '../errors/index.ts';
import type { EventType } from '../events/index.ts';
import { createEnricher } from './enrich/index.ts';
import type { RequestMeta } from './incoming.ts';
import { createRecordEncoder } from './intake.ts';
import { parseJsonBody } from './json-body.ts';
import { type BatchProtocol, eventsIn, parseBatch } from './protocols/batch.ts';

// An intake worker: a thread that turns large request bodies into WAL records (JSON parsing,
// checks, enrichment, encoding), so one collector uses more than one core. The main thread keeps
// the HTTP connections, the rate limits, the WAL and the metrics.

export interface IntakeWorkerData {
  config: InletConfig;
  saltDir: string;
}

export interface IntakeJob {
  id: number;
  protocol: BatchProtocol;
  /** For Segment's per-type routes; undefined for /v1/batch. */
  fixedType: EventType | undefined;
  body: Uint8Array;
  meta: RequestMeta;
  headerWriteKey: string | undefined;
}

export type IntakeJobResult =
  | {
      id: number;
      ok: true;
      site: { id: string; write_key: string };
      count: number;
      records: Uint8Array;
      /** Messages of the batch left out as invalid: the first one's error, and how many. */
      refused?: { error: RefusalFields; count: number };
    }
  | {
      id: number;
      ok: false;
      /** Events the refusal covers, once the body is JSON (eventsIn); they count as rejected. */
      count: number | undefined;
      /** An InletError's fields, or code undefined for a failure of inlet's own. */
      error: RefusalFields;
    };

/** An InletError's fields, as they cross to the main thread. */
export interface RefusalFields {
  code: ErrorCode | undefined;
  message: string;
  details?: Record<string, unknown>;
  retryAfterSeconds?: number;
}

function createJobRunner(data: IntakeWorkerData) {
  const encoder = createRecordEncoder({
    config: data.config,
    enrich: createEnricher({
      saltDir: data.saltDir,
      maxEventAgeDays: data.config.limits.max_event_age_days,
      sites: data.config.sites,
    }),
  });
  return (job: IntakeJob): IntakeJobResult => {
    let count: number | undefined;
    try {
      const body = parseJsonBody(Buffer.from(job.body.buffer, job.body.byteOffset, job.body.byteLength));
      count = eventsIn(body, job.protocol, job.fixedType);
      const parsed = parseBatch(body, job.protocol, job.fixedType);
      const prepared = encoder.prepare(parsed, job.meta, job.headerWriteKey);
      const { id, write_key } = prepared.site;
      const { refused } = prepared;
      // Records carved out of a shared slab are copied into memory of their own, which the reply
      // moves to the main thread: a slice would be copied with its whole slab (4 MiB).
      const records = ownsMemory(prepared.records) ? prepared.records : new Uint8Array(prepared.records);
      const result = {
        id: job.id,
        ok: true as const,
        site: { id, write_key },
        count: prepared.count,
        records,
      };
      if (!refused) return result;
      const { code, message, details } = refused.error;
      return { ...result, refused: { error: { code, message, details }, count: refused.count } };
    } catch (error) {
      if (error instanceof InletError) {
        const { code, message, details, retryAfterSeconds } = error;
        return { id: job.id, ok: false, count, error: { code, message, details, retryAfterSeconds } };
      }
      return { id: job.id, ok: false, count, error: { code: undefined, message: String(error) } };
    }
  };
}

/** A buffer is moved to the other thread only when it owns its memory; a pooled slice is copied. */
const ownsMemory = (bytes: Uint8Array) =>
  bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;

if (parentPort) {
  const port = parentPort;
  const run = createJobRunner(workerData as IntakeWorkerData);
  port.on('message', (job: IntakeJob) => {
    const result = run(job);
    port.postMessage(
      result,
      result.ok && ownsMemory(result.records) ? [result.records.buffer as ArrayBuffer] : [],
    );
  });
}
