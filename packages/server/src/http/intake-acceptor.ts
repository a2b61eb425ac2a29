import type { IncomingMessage } from 'node:http';
import {
  type BatchProtocol,
  eventsIn,
  type Intake,
  type IntakeWorkers,
  type ParsedIntake,
  parseBatch,
  parseJsonBody,
  type RequestMeta,
} from '../collect/index.ts';
import type { InletConfig } from '../config/index.ts';
import { InletError } from '../errors/index.ts';
import type { EventType } from '../events/index.ts';
import type { Logger } from '../log/index.ts';
import type { Metrics } from '../metrics/index.ts';
import { basicUser } from './basic-credentials.ts';
import { forwardedClient } from './forwarded-client.ts';

/**
 * How the collector's routes hand a request to the intake: its client address (through
 * server.trust_proxy proxies), its meta (time, address, User-Agent, Origin, Do Not Track), its write
 * key sent outside the body, and its events, parsed here or, from a large body, in an intake worker.
 */
export function createIntakeAcceptor(options: {
  config: InletConfig;
  intake: Intake;
  workers?: IntakeWorkers;
  metrics: Metrics;
  logger: Logger;
}) {
  const { config, intake, workers, metrics, logger } = options;
  const workerMinBytes = config.collector.worker_min_bytes;
  const workerRequests = metrics.counter(
    'inlet_intake_worker_requests_total',
    'Requests whose bodies an intake worker parsed and encoded',
  );

  const proxies = config.server.trust_proxy;
  const clientIp = (request: IncomingMessage): string | undefined =>
    (proxies > 0 ? forwardedClient(request.headers['x-forwarded-for'], proxies) : undefined) ??
    request.socket.remoteAddress;
  const metaOf = (request: IncomingMessage): RequestMeta => ({
    receivedAt: Date.now(),
    ip: clientIp(request),
    userAgent: request.headers['user-agent'],
    origin: request.headers.origin,
    doNotTrack: request.headers.dnt === '1' || request.headers['sec-gpc'] === '1',
  });
  /**
   * The write key a request carries outside its body: the Basic user name, else the query's (beacons).
   * An empty user name (Basic of ":") is none: it hid the query's key, and the beacon was "No write key".
   */
  const requestWriteKey = (request: IncomingMessage, queryWriteKey: string | undefined) =>
    basicUser(request.headers.authorization) || queryWriteKey;
  const accept = (request: IncomingMessage, parsed: ParsedIntake, queryWriteKey?: string) =>
    intake.accept(parsed, metaOf(request), requestWriteKey(request, queryWriteKey));

  /**
   * Parses and accepts a Segment or inlet batch body: a large one in an intake worker, so the main
   * thread keeps serving connections; a small one here, where the hand-over would cost more.
   */
  const acceptBody = async (
    request: IncomingMessage,
    body: Buffer,
    protocol: BatchProtocol,
    fixedType: EventType | undefined,
    queryWriteKey?: string,
  ) => {
    if (workers && body.length >= workerMinBytes) {
      // A copy the worker can own: the body's memory may be shared with other buffers.
      const owned = new Uint8Array(body.length);
      owned.set(body);
      const meta = metaOf(request);
      const headerWriteKey = requestWriteKey(request, queryWriteKey);
      const job = workers.run({ protocol, fixedType, body: owned, meta, headerWriteKey });
      if (job) {
        workerRequests.inc();
        const result = await job;
        if (result.ok) {
          const { site, count, records, refused } = result;
          const bytes = Buffer.from(records.buffer, records.byteOffset, records.byteLength);
          if (!refused) return intake.commit({ site, count, records: bytes });
          const { code = 'INVALID_FIELD', message, details } = refused.error;
          const error = new InletError(code, message, { details });
          return intake.commit({ site, count, records: bytes, refused: { error, count: refused.count } });
        }
        const { code, message, details, retryAfterSeconds } = result.error;
        if (code !== undefined) {
          // The worker's refusal, counted and answered as this thread's own would be.
          const error = new InletError(code, message, { details, retryAfterSeconds });
          if (result.count !== undefined) intake.countRefusal(error, result.count);
          throw error;
        }
        // The worker died or failed on its own account: this thread still has the body, so the
        // client gets its answer rather than an error it did not cause.
        logger.warn({ reason: message }, 'an intake worker failed a request; parsing it here');
      }
    }
    const json = parseJsonBody(body);
    const parsed = intake.counted(eventsIn(json, protocol, fixedType), () =>
      parseBatch(json, protocol, fixedType),
    );
    return accept(request, parsed, queryWriteKey);
  };
  return { clientIp, metaOf, requestWriteKey, accept, acceptBody };
}

/** What createIntakeAcceptor gives the collector's routes and its handler. */
export type IntakeAcceptor = ReturnType<typeof createIntakeAcceptor>;
