import { IncomingMessage, type ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import {
  addressKey,
  type BatchProtocol,
  checkPixelEscapes,
  createRateLimiter,
  eventsIn,
  type Intake,
  type IntakeWorkers,
  type ParsedIntake,
  parseBatch,
  parseJsonBody,
  parsePixel,
  parsePlausible,
  parseUmami,
  type RequestMeta,
} from '../collect/index.ts';
import type { InletConfig } from '../config/index.ts';
import { InletError } from '../errors/index.ts';
import type { EventType } from '../events/index.ts';
import type { Logger } from '../log/index.ts';
import type { Metrics } from '../metrics/index.ts';
import { dropUnreadBody } from './body-drain.ts';
import { preflightHeaders } from './cors.ts';
import { createDeflateDecoder } from './deflate-decoder.ts';
import { contentTypeRefused, toInletError, wrongMethod } from './error-handler.ts';
import { decodeUnreserved } from './percent-decoding.ts';
import { PIXEL, pixelErrorHeaders } from './pixel-image.ts';
import { createRefusalLogger } from './refusal-log.ts';
import type { RequestCounter } from './request-counter.ts';
import { unframedBodyRefusal } from './transfer-coding.ts';

// The collector's routes are served here, on Node's http server directly, before Fastify sees the
// request: they are the hot path (tens of thousands of requests a second), and Fastify's routing,
// hooks and reply machinery cost more per request than everything the collector does itself.
// Everything else (query API, catalog, ops, the tracker bundle) stays on Fastify.

const SUCCESS = Buffer.from('{"success":true}');
const EMPTY_OBJECT = Buffer.from('{}');

type Answer = { status: number; body?: Buffer | string; type?: string; headers?: Record<string, string> };
/** A collector route; url is the request's address when it has a query string, or is a GET. */
type Route = {
  method: 'GET' | 'POST';
  handle: (request: IncomingMessage, url: URL | undefined) => Promise<Answer>;
  /**
   * The answer to HEAD on a GET route: the GET answer's headers (Node sends no body), or the refusal
   * GET would get, with nothing recorded.
   */
  head?: (request: IncomingMessage, url: URL | undefined) => Promise<Answer>;
  /** The route is an image: a refusal is the same image with the error's status, not JSON. */
  image?: true;
};

/**
 * The pixel's query parameters. An e-mail template that escapes its HTML twice sends &amp;n=open,
 * whose key reads as "amp;n": the event was filed as a nameless page view, so amp; is dropped.
 * A key given twice is taken the first time, as searchParams.get takes the beacon's writeKey: the
 * pixel took the last, so one URL with two write keys went to one site there and another here.
 */
function pixelQuery(url: URL | undefined): Record<string, string> {
  // No prototype: a key such as __proto__ is then a plain key, as in Object.fromEntries.
  const query: Record<string, string> = Object.create(null);
  if (url) checkPixelEscapes(url.search);
  for (const [key, value] of url?.searchParams ?? []) {
    const name = key.startsWith('amp;') ? key.slice(4) : key;
    if (!(name in query)) query[name] = value;
  }
  return query;
}

/** The HTTP Basic user name, which Segment's SDKs use for the write key. */
export function basicUser(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  // A collector sees the same few write keys over and over.
  if (header === lastBasic.header) return lastBasic.user;
  // Schemes are case-insensitive (RFC 9110 §11.1), as POST /logs reads them: "basic …", which curl
  // users write, was answered "No write key".
  if (!header.startsWith('Basic ') && header.slice(0, 6).toLowerCase() !== 'basic ') return undefined;
  lastBasic = { header, user: basicCredentialsUser(Buffer.from(header.slice(6), 'base64').toString('utf8')) };
  return lastBasic.user;
}

/**
 * The user name of decoded HTTP Basic credentials ("user:password"). Segment's SDKs send the write key
 * as the user with an empty password ("<key>:"), so there the user is all before the last colon: a
 * key that holds one (wk:docs) was cut at its first and answered 401. Else the user ends at the
 * first colon, as RFC 7617 has it (Fluent Bit's http_User and http_Passwd).
 */
export function basicCredentialsUser(decoded: string): string {
  const colon = decoded.endsWith(':') ? decoded.length - 1 : decoded.indexOf(':');
  return colon === -1 ? decoded : decoded.slice(0, colon);
}
let lastBasic = { header: '', user: '' };

/**
 * Refuses a Content-Type (lower-cased) whose charset is not UTF-8: bodies are read as UTF-8 (as
 * Segment's API requires), and one declared in another charset was stored with its letters broken
 * (café as caf\ufffd). POST /logs checks the same way.
 */
export function checkCharset(type: string): void {
  if (!type.includes('charset')) return;
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)/.exec(type)?.[1];
  // "charset=" with no name (a client's template left empty) was answered "declares charset=;".
  if (charset === '')
    throw new InletError(
      'UNSUPPORTED_CONTENT_TYPE',
      'Content-Type has charset= with no name after it; send charset=utf-8, or leave charset out (UTF-8 is assumed).',
    );
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8' && charset !== 'us-ascii') {
    throw new InletError(
      'UNSUPPORTED_CONTENT_TYPE',
      `Content-Type declares charset=${charset}; send the body as UTF-8 (charset=utf-8).`,
    );
  }
}

/** Reads a body: content type and declared size checked before reading, decompressed, size-limited. */
async function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const unframed = unframedBodyRefusal(request.headers);
  if (unframed) throw unframed;
  const type = request.headers['content-type']?.toLowerCase() ?? '';
  // The media type alone, matched whole: a prefix let application/jsonp and text/plainx through.
  const semicolon = type.indexOf(';');
  const media = (semicolon === -1 ? type : type.slice(0, semicolon)).trim();
  if (media !== 'application/json' && media !== 'text/plain') {
    throw new InletError(
      'UNSUPPORTED_CONTENT_TYPE',
      `${contentTypeRefused(type, 'here')}; send Content-Type: application/json (or text/plain) with a JSON body.`,
    );
  }
  checkCharset(type);
  const encoding = request.headers['content-encoding']?.toLowerCase();
  const encoded = encoding !== undefined && encoding !== 'identity';
  if (encoded && encoding !== 'gzip' && encoding !== 'x-gzip' && encoding !== 'deflate') {
    throw new InletError(
      'UNSUPPORTED_ENCODING',
      `Content-Encoding ${encoding} is not supported; send gzip, deflate or no encoding.`,
    );
  }
  // Before any decoder exists: a decoder fed a body that no one reads fails with no one listening.
  if (Number(request.headers['content-length'] ?? 0) > limit) throw tooLarge(limit);
  let stream: Readable = request;
  if (encoded) {
    const decoder = encoding === 'deflate' ? createDeflateDecoder() : createGunzip();
    // A client that hangs up mid-body fails the decoder too, rather than leave it waiting for an end.
    request.on('error', (error) => decoder.destroy(error));
    stream = request.pipe(decoder);
  }
  const chunks = await collect(stream, limit);
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
}

/** Reads a JSON body and parses it. */
async function readJson(request: IncomingMessage, limit: number): Promise<unknown> {
  return parseJsonBody(await readBody(request, limit));
}

/** The body's chunks, refused past limit bytes; plain events, as async iteration costs more per request. */
function collect(stream: Readable, limit: number): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      // Counted after decompression too, so a small gzip bomb is refused like a large body.
      if (size > limit) {
        // A decoder is destroyed; the request itself is read on and dropped, as destroying it
        // would close the connection before the client could read its 413.
        if (stream instanceof IncomingMessage) {
          stream.removeAllListeners('data');
          stream.resume();
        } else stream.destroy();
        chunks.length = 0;
        reject(tooLarge(limit));
      } else chunks.push(chunk);
    });
    stream.on('end', () => resolve(chunks));
    stream.on('error', (error) => reject(toInletError(error) ?? error));
  });
}

/**
 * An X-Forwarded-For entry without the port some proxies append to it (Azure Application Gateway,
 * IIS ARR): 203.0.113.7:50123, [2001:db8::1]:443. Taken with it, each connection a visitor opened
 * (a new source port) was a new visitor_hash, and a new key for the per-IP rate limit.
 */
function withoutPort(entry: string): string {
  if (entry.startsWith('[')) {
    const end = entry.indexOf(']');
    return end === -1 ? entry : entry.slice(1, end);
  }
  // One colon is an IPv4 address and its port; an IPv6 address without brackets has several.
  const colon = entry.indexOf(':');
  return colon !== -1 && colon === entry.lastIndexOf(':') ? entry.slice(0, colon) : entry;
}

/**
 * The client address in X-Forwarded-For behind `proxies` proxies that each append the address they
 * saw: that many entries from the right. Entries further left came from the client and are not taken.
 */
export function forwardedClient(header: string | string[] | undefined, proxies: number): string | undefined {
  if (header === undefined) return undefined;
  const entries = (Array.isArray(header) ? header.join(',') : header)
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  const entry = entries[Math.max(0, entries.length - proxies)];
  return entry === undefined ? undefined : withoutPort(entry);
}

// The limit in the message: a gzip bomb's client sent a few KB, and learns the limit counts what it unpacks to.
const tooLarge = (limit: number) =>
  new InletError(
    'BODY_TOO_LARGE',
    `The request body is larger than limits.request_bytes (${limit} bytes, counted after decompression); send smaller batches.`,
  );

// Segment's tracking API under /v1/: the HTTP API's names, and the one-letter names analytics.js
// (Segment's browser SDK) posts to, one event a request, or /v1/b with its batching delivery.
// /v1/import is the batch's older name, where Segment's Ruby and Java SDKs still post.
const SEGMENT_ROUTES: Array<[string[], EventType | undefined]> = [
  [['batch', 'b', 'import'], undefined],
  [['track', 't'], 'track'],
  [['page', 'p'], 'page'],
  [['identify', 'i'], 'identify'],
  [['screen', 's'], 'screen'],
  [['group', 'g'], 'group'],
  [['alias', 'a'], 'alias'],
];

/**
 * Builds the handler for the collector's routes: Segment's tracking API, inlet's compact batch,
 * the pixel, Plausible's and Umami's endpoints, with CORS and per-IP limits. It returns false for
 * any other path, which then goes to Fastify.
 */
export function createIntakeHandler(options: {
  config: InletConfig;
  intake: Intake;
  workers?: IntakeWorkers;
  requests: RequestCounter;
  metrics: Metrics;
  logger: Logger;
}) {
  const { config, intake, workers, requests, metrics, logger } = options;
  const logRefusal = createRefusalLogger(logger);
  const workerMinBytes = config.collector.worker_min_bytes;
  const workerRequests = metrics.counter(
    'inlet_intake_worker_requests_total',
    'Requests whose bodies an intake worker parsed and encoded',
  );
  const ipLimit = createRateLimiter(config.limits.per_ip_per_second);
  const limit = config.limits.request_bytes;

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

  const routes = new Map<string, Route>();
  for (const [names, type] of SEGMENT_ROUTES) {
    const route: Route = {
      method: 'POST',
      handle: async (request) => {
        await acceptBody(request, await readBody(request, limit), 'segment', type);
        return { status: 200, body: SUCCESS, type: 'application/json; charset=utf-8' };
      },
    };
    for (const name of names) routes.set(`/v1/${name}`, route);
  }
  // RudderStack's browser SDK with useBeacon: a Segment batch by navigator.sendBeacon, which can send
  // no Authorization header, so the write key comes in the query.
  routes.set('/beacon/v1/batch', {
    method: 'POST',
    handle: async (request, url) => {
      const writeKey = url?.searchParams.get('writeKey') ?? undefined;
      await acceptBody(request, await readBody(request, limit), 'segment', undefined, writeKey);
      return { status: 200, body: SUCCESS, type: 'application/json; charset=utf-8' };
    },
  });
  // The write key in the body (k), or in the query (/collect?k=…) as the pixel takes it: there, it
  // was refused as "No write key: send it … or as k".
  routes.set('/collect', {
    method: 'POST',
    handle: async (request, url) => {
      const writeKey = url?.searchParams.get('k') || undefined;
      await acceptBody(request, await readBody(request, limit), 'inlet', undefined, writeKey);
      return { status: 204 };
    },
  });
  const pixel: Answer = {
    status: 200,
    body: PIXEL,
    type: 'image/gif',
    headers: { 'Cache-Control': 'no-store' },
  };
  routes.set('/p.gif', {
    method: 'GET',
    handle: async (request, url) => {
      await accept(request, parsePixel(pixelQuery(url), request.headers.referer));
      return pixel;
    },
    // Link checkers and mail clients' image proxies may ask with HEAD first; that is no view. It
    // gets what GET would (a 401 for an unknown key), so curl -I checks a pixel URL.
    head: async (request, url) => {
      const parsed = parsePixel(pixelQuery(url), request.headers.referer);
      intake.check(parsed, metaOf(request), requestWriteKey(request, undefined));
      return pixel;
    },
    image: true,
  });
  routes.set('/api/event', {
    method: 'POST',
    handle: async (request) => {
      const parsed = parsePlausible(await readJson(request, limit));
      const context = parsed.events[0]?.context ?? {};
      const domains = Array.isArray(context.domains)
        ? (context.domains as string[])
        : [String(context.domain)];
      await intake.acceptByDomain(parsed, metaOf(request), domains);
      return { status: 202, body: 'ok', type: 'text/plain; charset=utf-8' };
    },
  });
  routes.set('/api/send', {
    method: 'POST',
    handle: async (request) => {
      await accept(request, parseUmami(await readJson(request, limit)));
      return { status: 200, body: EMPTY_OBJECT, type: 'application/json; charset=utf-8' };
    },
  });

  const respond = (request: IncomingMessage, response: ServerResponse, path: string, answer: Answer) => {
    const headers: Record<string, string> = answer.headers ? { ...answer.headers } : {};
    const origin = request.headers.origin;
    if (origin) {
      headers['Access-Control-Allow-Origin'] = origin;
      headers.Vary = headers.Vary ? `Origin, ${headers.Vary}` : 'Origin';
    }
    if (answer.type) headers['Content-Type'] = answer.type;
    // writeHead sends the headers as they are, so without a length Node would frame a body of a few
    // bytes as chunks; a HEAD answer carries its GET's length and no body.
    if (answer.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(answer.body));
    // A body refused unread is read on and dropped, so the answer reaches a client that sends its
    // whole body before it reads (Node's fetch and http), and the connection stays usable: closed
    // with the body still coming in, it was reset, and such clients saw EPIPE, never the 413. A
    // body announced larger than DRAIN_BYTES is not waited for: the connection is closed, so
    // nothing of it can be parsed as the next request.
    if (dropUnreadBody(request)) headers.Connection = 'close';
    response.writeHead(answer.status, headers);
    response.end(answer.body);
    requests.route(request, path, answer.status);
  };

  const fail = (request: IncomingMessage, response: ServerResponse, path: string, error: unknown) => {
    const route = routes.get(path);
    const known = toInletError(error);
    // A refusal not counted where its events were known (a body that is no JSON, one refused
    // unread, a rate limit) counts as one event; a HEAD, which records nothing, as none.
    if (known) {
      intake.countRefusal(known, request.method === 'HEAD' ? 0 : 1);
      logRefusal(known);
    } else {
      intake.countFailure(1);
      logger.error(
        { err: error, url: request.url, method: request.method },
        'unexpected error while collecting',
      );
    }
    const status = known?.status ?? 500;
    const body = known
      ? JSON.stringify(known.toJSON())
      : '{"error":{"code":"INTERNAL","message":"inlet failed to handle this request; the error is in its log."}}';
    const headers: Record<string, string> =
      known?.retryAfterSeconds !== undefined ? { 'Retry-After': String(known.retryAfterSeconds) } : {};
    if (route?.image) {
      const reason = known ?? { code: 'INTERNAL', message: 'inlet failed to handle this request.' };
      Object.assign(headers, pixelErrorHeaders(reason));
      respond(request, response, path, { status, body: PIXEL, type: 'image/gif', headers });
      return;
    }
    respond(request, response, path, { status, body, type: 'application/json; charset=utf-8', headers });
  };

  return (request: IncomingMessage, response: ServerResponse): boolean => {
    const raw = request.url ?? '/';
    const query = raw.indexOf('?');
    let path = query === -1 ? raw : raw.slice(0, query);
    let route = routes.get(path);
    // Only a path no route has is decoded, so the collector's requests pay nothing for it.
    if (!route) {
      const decoded = decodeUnreserved(path);
      route = decoded === path ? undefined : routes.get(decoded);
      if (!route) return false;
      path = decoded;
    }
    if (request.method === 'OPTIONS') {
      respond(request, response, path, {
        status: 204,
        headers: preflightHeaders(request, 'GET, POST, OPTIONS'),
      });
      return true;
    }
    const head = request.method === 'HEAD' ? route.head : undefined;
    if (request.method !== route.method && !head) {
      const allowed = route.head ? [route.method, 'HEAD'] : [route.method];
      respond(request, response, path, {
        status: 405,
        body: JSON.stringify(wrongMethod(request.method, path, allowed).toJSON()),
        type: 'application/json; charset=utf-8',
        headers: { Allow: [...allowed, 'OPTIONS'].join(', ') },
      });
      return true;
    }
    if (!ipLimit(addressKey(clientIp(request) ?? ''))) {
      fail(
        request,
        response,
        path,
        new InletError('RATE_LIMITED', 'Too many requests from this address; slow down and retry.', {
          retryAfterSeconds: 1,
        }),
      );
      return true;
    }
    const url = route.method === 'GET' || query !== -1 ? new URL(raw, 'http://collector.invalid') : undefined;
    (head ?? route.handle)(request, url).then(
      (answer) => respond(request, response, path, answer),
      (error: unknown) => fail(request, response, path, error),
    );
    return true;
  };
}
