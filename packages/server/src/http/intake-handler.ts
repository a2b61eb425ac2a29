import type { IncomingMessage, ServerResponse } from 'node:http';
import { addressKey, createRateLimiter, type Intake, type IntakeWorkers } from '../collect/index.ts';
import type { InletConfig } from '../config/index.ts';
import { InletError } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import type { Metrics } from '../metrics/index.ts';
import { dropUnreadBody } from './body-drain.ts';
import { preflightHeaders } from './cors.ts';
import { toInletError, wrongMethod } from './error-handler.ts';
import { createIntakeAcceptor } from './intake-acceptor.ts';
import { type Answer, createIntakeRoutes } from './intake-routes.ts';
import { decodeUnreserved } from './percent-decoding.ts';
import { PIXEL, pixelErrorHeaders } from './pixel-image.ts';
import { createRefusalLogger } from './refusal-log.ts';
import type { RequestCounter } from './request-counter.ts';

// The collector's routes are served here, on Node's http server directly, before Fastify sees the
// request: they are the hot path (tens of thousands of requests a second), and Fastify's routing,
// hooks and reply machinery cost more per request than everything the collector does itself.
// Everything else (query API, catalog, ops, the tracker bundle) stays on Fastify.

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
  const acceptor = createIntakeAcceptor({ config, intake, workers, metrics, logger });
  const { clientIp } = acceptor;
  const ipLimit = createRateLimiter(config.limits.per_ip_per_second);
  const limit = config.limits.request_bytes;

  const routes = createIntakeRoutes({ intake, acceptor, limit });

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
