import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { createGunzip, createInflate } from 'node:zlib';
import {
  createRateLimiter,
  type Intake,
  type ParsedIntake,
  parseInletBatch,
  parsePixel,
  parsePlausible,
  parseSegment,
  parseUmami,
  type RequestMeta,
} from '../collect/index.ts';
import type { InletConfig } from '../config/index.ts';
import { InletError } from '../errors/index.ts';
import type { EventType } from '../events/index.ts';
import type { Logger } from '../log/index.ts';
import type { Counter } from '../metrics/index.ts';
import { toInletError } from './error-handler.ts';

// The collector's routes are served here, on Node's http server directly, before Fastify sees the
// request: they are the hot path (tens of thousands of requests a second), and Fastify's routing,
// hooks and reply machinery cost more per request than everything the collector does itself.
// Everything else (query API, catalog, ops, the tracker bundle) stays on Fastify.

// A 1×1 transparent GIF.
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
const SUCCESS = Buffer.from('{"success":true}');
const EMPTY_OBJECT = Buffer.from('{}');

type Answer = { status: number; body?: Buffer | string; type?: string; headers?: Record<string, string> };
type Route = { method: 'GET' | 'POST'; handle: (request: IncomingMessage, url: URL) => Promise<Answer> };

/** The HTTP Basic user name, which Segment's SDKs use for the write key. */
function basicUser(header: string | undefined): string | undefined {
  if (!header?.startsWith('Basic ')) return undefined;
  // A collector sees the same few write keys over and over.
  if (header === lastBasic.header) return lastBasic.user;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  lastBasic = { header, user: colon === -1 ? decoded : decoded.slice(0, colon) };
  return lastBasic.user;
}
let lastBasic = { header: '', user: '' };

/** Reads a JSON body: content type and declared size checked before reading, decompressed, size-limited. */
async function readJson(request: IncomingMessage, limit: number): Promise<unknown> {
  const type = request.headers['content-type']?.toLowerCase() ?? '';
  if (!type.startsWith('application/json') && !type.startsWith('text/plain')) {
    throw new InletError(
      'UNSUPPORTED_CONTENT_TYPE',
      'Unsupported Content-Type; send application/json or text/plain.',
    );
  }
  const encoding = request.headers['content-encoding']?.toLowerCase();
  let stream: Readable = request;
  if (encoding && encoding !== 'identity') {
    if (encoding !== 'gzip' && encoding !== 'x-gzip' && encoding !== 'deflate') {
      throw new InletError(
        'UNSUPPORTED_ENCODING',
        `Content-Encoding ${encoding} is not supported; send gzip, deflate or no encoding.`,
      );
    }
    stream = request.pipe(encoding === 'deflate' ? createInflate() : createGunzip());
  }
  if (Number(request.headers['content-length'] ?? 0) > limit) throw tooLarge();
  const chunks = await collect(stream, limit);
  const text =
    chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8');
  if (text.length === 0) throw new InletError('INVALID_JSON', 'The body is empty; send a JSON object.');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InletError('INVALID_JSON', `The body is not valid JSON: ${(error as Error).message}`);
  }
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
        stream.destroy();
        reject(tooLarge());
      } else chunks.push(chunk);
    });
    stream.on('end', () => resolve(chunks));
    stream.on('error', (error) => reject(toInletError(error) ?? error));
  });
}

const tooLarge = () =>
  new InletError(
    'BODY_TOO_LARGE',
    'The request body is larger than limits.request_bytes; send smaller batches.',
  );

const SEGMENT_ROUTES: Array<[string, EventType | undefined]> = [
  ['batch', undefined],
  ['track', 'track'],
  ['page', 'page'],
  ['identify', 'identify'],
  ['screen', 'screen'],
  ['group', 'group'],
  ['alias', 'alias'],
];

/**
 * Builds the handler for the collector's routes: Segment's tracking API, inlet's compact batch,
 * the pixel, Plausible's and Umami's endpoints, with CORS and per-IP limits. It returns false for
 * any other path, which then goes to Fastify.
 */
export function createIntakeHandler(options: {
  config: InletConfig;
  intake: Intake;
  requests: Counter;
  logger: Logger;
}) {
  const { config, intake, requests, logger } = options;
  const ipLimit = createRateLimiter(config.limits.per_ip_per_second);
  const limit = config.limits.request_bytes;

  const clientIp = (request: IncomingMessage): string | undefined => {
    if (config.server.trust_proxy) {
      const forwarded = request.headers['x-forwarded-for'];
      const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
      if (first) return first;
    }
    return request.socket.remoteAddress;
  };
  const metaOf = (request: IncomingMessage): RequestMeta => ({
    receivedAt: Date.now(),
    ip: clientIp(request),
    userAgent: request.headers['user-agent'],
    origin: request.headers.origin,
  });
  const accept = (request: IncomingMessage, parsed: ParsedIntake) =>
    intake.accept(parsed, metaOf(request), basicUser(request.headers.authorization));

  const routes = new Map<string, Route>();
  for (const [name, type] of SEGMENT_ROUTES) {
    routes.set(`/v1/${name}`, {
      method: 'POST',
      handle: async (request) => {
        await accept(request, parseSegment(await readJson(request, limit), type));
        return { status: 200, body: SUCCESS, type: 'application/json; charset=utf-8' };
      },
    });
  }
  routes.set('/collect', {
    method: 'POST',
    handle: async (request) => {
      await accept(request, parseInletBatch(await readJson(request, limit)));
      return { status: 204 };
    },
  });
  routes.set('/p.gif', {
    method: 'GET',
    handle: async (request, url) => {
      await accept(request, parsePixel(Object.fromEntries(url.searchParams), request.headers.referer));
      return { status: 200, body: PIXEL, type: 'image/gif', headers: { 'Cache-Control': 'no-store' } };
    },
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
      headers.Vary = 'Origin';
    }
    if (answer.type) headers['Content-Type'] = answer.type;
    // A body refused unread would otherwise be parsed as the next request on this connection.
    if (!request.complete) headers.Connection = 'close';
    response.writeHead(answer.status, headers);
    response.end(answer.body);
    requests.inc({ route: path, status: String(answer.status) });
  };

  const fail = (request: IncomingMessage, response: ServerResponse, path: string, error: unknown) => {
    const known = toInletError(error);
    if (!known)
      logger.error(
        { err: error, url: request.url, method: request.method },
        'unexpected error while collecting',
      );
    const status = known?.status ?? 500;
    const body = known
      ? JSON.stringify(known.toJSON())
      : '{"error":{"code":"INTERNAL","message":"inlet failed to handle this request; the error is in its log."}}';
    const headers: Record<string, string> =
      known?.retryAfterSeconds !== undefined ? { 'Retry-After': String(known.retryAfterSeconds) } : {};
    respond(request, response, path, { status, body, type: 'application/json; charset=utf-8', headers });
  };

  return (request: IncomingMessage, response: ServerResponse): boolean => {
    const raw = request.url ?? '/';
    const query = raw.indexOf('?');
    const path = query === -1 ? raw : raw.slice(0, query);
    const route = routes.get(path);
    if (!route) return false;
    if (request.method === 'OPTIONS') {
      respond(request, response, path, {
        status: 204,
        headers: {
          'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
          // x-umami-cache: Umami's script sends it on every request.
          'Access-Control-Allow-Headers': 'Content-Type, Authorization, Content-Encoding, x-umami-cache',
          'Access-Control-Max-Age': '86400',
        },
      });
      return true;
    }
    if (request.method !== route.method) return false;
    if (!ipLimit(clientIp(request) ?? '')) {
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
    const url = route.method === 'GET' ? new URL(raw, 'http://collector.invalid') : undefined;
    route.handle(request, url as URL).then(
      (answer) => respond(request, response, path, answer),
      (error: unknown) => fail(request, response, path, error),
    );
    return true;
  };
}
