import { createGunzip, createInflate } from 'node:zlib';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RequestMeta } from '../collect/incoming.ts';
import {
  createRateLimiter,
  type Intake,
  type ParsedIntake,
  parseInletBatch,
  parsePixel,
  parsePlausible,
  parseSegment,
  parseUmami,
} from '../collect/index.ts';
import type { InletConfig } from '../config/index.ts';
import { InletError } from '../errors/index.ts';
import type { EventType } from '../events/index.ts';

// A 1×1 transparent GIF.
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
const SEGMENT_ROUTES: Array<[string, EventType | undefined]> = [
  ['batch', undefined],
  ['track', 'track'],
  ['page', 'page'],
  ['identify', 'identify'],
  ['screen', 'screen'],
  ['group', 'group'],
  ['alias', 'alias'],
];

/** The HTTP Basic user name, which Segment's SDKs use for the write key. */
function basicUser(header: string | undefined): string | undefined {
  if (!header?.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon === -1 ? decoded : decoded.slice(0, colon);
}

const metaOf = (request: FastifyRequest): RequestMeta => ({
  receivedAt: Date.now(),
  ip: request.ip,
  userAgent: request.headers['user-agent'],
  origin: request.headers.origin,
});

/** Collector routes: Segment's tracking API, inlet's compact batch, the pixel, with CORS and per-IP limits. */
export function registerCollectRoutes(
  app: FastifyInstance,
  options: { config: InletConfig; intake: Intake },
) {
  const { intake } = options;
  const ipLimit = createRateLimiter(options.config.limits.per_ip_per_second);

  app.register(async (scope) => {
    scope.addHook('onRequest', async (request, reply) => {
      const origin = request.headers.origin;
      if (origin) {
        reply.header('Access-Control-Allow-Origin', origin);
        reply.header('Vary', 'Origin');
      }
      if (request.method !== 'OPTIONS' && !ipLimit(request.ip)) {
        throw new InletError('RATE_LIMITED', 'Too many requests from this address; slow down and retry.', {
          retryAfterSeconds: 1,
        });
      }
    });
    // Bodies may be gzip (Segment's SDKs compress) or deflate; the size limit applies after decompression too.
    scope.addHook('preParsing', async (request, _reply, payload) => {
      const encoding = request.headers['content-encoding']?.toLowerCase();
      if (!encoding || encoding === 'identity') return payload;
      if (encoding !== 'gzip' && encoding !== 'x-gzip' && encoding !== 'deflate') {
        throw new InletError(
          'UNSUPPORTED_ENCODING',
          `Content-Encoding ${encoding} is not supported; send gzip, deflate or no encoding.`,
        );
      }
      const decoder = Object.assign(encoding === 'deflate' ? createInflate() : createGunzip(), {
        receivedEncodedLength: 0,
      });
      payload.on('data', (chunk: Buffer) => {
        decoder.receivedEncodedLength += chunk.length;
      });
      payload.on('error', (error) => decoder.destroy(error));
      return payload.pipe(decoder);
    });
    scope.options('/*', async (_request, reply) => {
      reply.header('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
      // x-umami-cache: Umami's script sends it on every request.
      reply.header(
        'Access-Control-Allow-Headers',
        'Content-Type, Authorization, Content-Encoding, x-umami-cache',
      );
      reply.header('Access-Control-Max-Age', '86400');
      return reply.code(204).send();
    });

    const accept = async (request: FastifyRequest, parsed: ParsedIntake) =>
      intake.accept(parsed, metaOf(request), basicUser(request.headers.authorization));

    for (const [route, type] of SEGMENT_ROUTES) {
      scope.post(`/v1/${route}`, async (request, reply) => {
        await accept(request, parseSegment(request.body, type));
        return reply.code(200).send({ success: true });
      });
    }
    scope.post('/collect', async (request, reply) => {
      await accept(request, parseInletBatch(request.body));
      return reply.code(204).send();
    });
    // Plausible's and Umami's endpoints, so sites with those snippets can point them at inlet unchanged.
    scope.post('/api/event', async (request, reply) => {
      const parsed = parsePlausible(request.body);
      const context = parsed.events[0]?.context ?? {};
      const domains = Array.isArray(context.domains)
        ? (context.domains as string[])
        : [String(context.domain)];
      await intake.acceptByDomain(parsed, metaOf(request), domains);
      return reply.code(202).type('text/plain').send('ok');
    });
    scope.post('/api/send', async (request, reply) => {
      await accept(request, parseUmami(request.body));
      return reply.code(200).send({});
    });
    scope.get('/p.gif', async (request, reply) => {
      await accept(
        request,
        parsePixel(request.query as Record<string, string | undefined>, request.headers.referer),
      );
      return reply
        .code(200)
        .header('Content-Type', 'image/gif')
        .header('Cache-Control', 'no-store')
        .send(PIXEL);
    });
  });
}
