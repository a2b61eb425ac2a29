import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Catalog } from '../catalog/index.ts';
import { type Intake, type IntakeWorkers, parseJsonBody } from '../collect/index.ts';
import { configFileName, type InletConfig } from '../config/index.ts';
import type { QueryEngine } from '../engine/index.ts';
import { InletError } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import type { Metrics } from '../metrics/index.ts';
import {
  type LoadedWorkflows,
  listWorkflows,
  loadEachWorkflow,
  type RunHistory,
  withLeftOutWorkflows,
  workflowNames,
} from '../scheduler/index.ts';
import type { LogIntake } from '../sources/file-log/index.ts';
import type { WalWriter } from '../wal/index.ts';
import { dropUnreadBody } from './body-drain.ts';
import { registerCatalogRoutes } from './catalog-routes.ts';
import {
  answerRaw,
  createErrorHandler,
  handleClientError,
  handleConnect,
  handleFrameworkError,
  MAX_PARAM_LENGTH,
  wrongMethod,
} from './error-handler.ts';
import { checkCharset } from './intake-body.ts';
import { createIntakeHandler } from './intake-handler.ts';
import { registerLogRoutes } from './logs-routes.ts';
import { registerOpsRoutes } from './ops-routes.ts';
import { decodeUnreserved } from './percent-decoding.ts';
import { PIXEL, pixelErrorHeaders } from './pixel-image.ts';
import { queryBodyError, registerQueryRoutes } from './query-routes.ts';
import { refuseRepeatedKeys } from './repeated-key.ts';
import { createRequestCounter } from './request-counter.ts';
import { registerRunsRoutes } from './runs-routes.ts';
import { registerSdkRoutes } from './sdk-routes.ts';
import { registerTrackerRoutes } from './tracker-routes.ts';
import { answerBeforeRoute, transferCodingRefusal, unframedBodyRefusal } from './transfer-coding.ts';

export interface HttpAppOptions {
  config: InletConfig;
  logger: Logger;
  metrics: Metrics;
  intake?: Intake;
  /** Threads for large intake bodies (collector.workers). */
  workers?: IntakeWorkers;
  wal?: WalWriter;
  engine?: QueryEngine;
  /** The HTTP log intake (POST /logs, Fluent Bit's http output). */
  logs?: LogIntake;
  catalog?: Catalog;
  runs?: RunHistory;
  /** The workflows this process's scheduler loaded and those it left out (GET /api/workflows). */
  workflows?: () => LoadedWorkflows;
  apiToken: string;
}

/** read's value, read when first asked for and kept; a read that throws is tried again when next asked. */
function readOnce<T>(read: () => T): () => T {
  let value: { read: T } | undefined;
  return () => {
    value ??= { read: read() };
    return value.read;
  };
}

const ROUTE_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

const MISSING_HOST = new InletError(
  'BAD_REQUEST',
  'The request has no Host header, which HTTP/1.1 requires; send Host: with the name (and port) inlet is reached at, as HTTP clients do by themselves.',
);

/** Paths of the collector role: intake-routes.ts, tracker-, sdk- and logs-routes.ts. */
const COLLECTOR_PATHS =
  /^\/(v1\/(batch|b|import|track|t|page|p|identify|i|screen|s|group|g|alias|a|projects\/[^/]+\/settings)|beacon\/v1\/batch|collect|p\.gif|api\/(event|send)|inlet(\.[^/.]+)?\.js|analytics\.js\/v1\/[^/]+\/analytics\.min\.js|analytics-next\/bundles\/[^/]+|sourceConfig|logs)$/;
/** Paths of the web role: query-, catalog- and runs-routes.ts. */
const WEB_PATHS = /^\/api\/(query(\/[^/]+)?|catalog(\/[^/]+)?|lineage|runs(\/[^/]+)?|workflows)$/;

/**
 * The role that serves a path this process has no route for because it does not run that role
 * (inlet start --role web has no collector): "no route" sent people to a README that lists it.
 */
function missingRole(path: string, options: HttpAppOptions): string | undefined {
  if (!options.intake && COLLECTOR_PATHS.test(path)) return 'collector';
  if (!options.engine && WEB_PATHS.test(path)) return 'web';
  return undefined;
}

/** A route's URL as a pattern for request paths: each :param stands for one path segment. */
const routePattern = (url: string): RegExp =>
  new RegExp(
    `^${url
      .split('/')
      .map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('/')}$`,
  );

/**
 * A request target as the path and query alone, which every route matches on. The absolute form
 * (POST http://host/v1/batch HTTP/1.1), which clients send through a forward proxy and servers must
 * accept (RFC 9112 §3.2.2), was answered "No route" and its events dropped; so was a path starting
 * with // (an SDK whose host ends in /), which nginx in front (merge_slashes) would have served, and
 * one ending in / (an SDK whose host ends in a path: …/v1/batch/), which is served as the path
 * without it on every route, the collector's and the API's alike.
 */
function originForm(target: string): string {
  let path = target;
  if (!path.startsWith('/')) {
    const authority = /^https?:\/\/[^/?#]*/i.exec(path);
    if (!authority) return target;
    path = path.slice(authority[0].length);
  }
  path = path.startsWith('/') ? path.replace(/^\/{2,}/, '/') : `/${path}`;
  const query = path.indexOf('?');
  const end = query === -1 ? path.length : query;
  const trimmed = path.slice(0, end).replace(/(?<=.)\/+$/, '');
  return trimmed.length === end ? path : trimmed + path.slice(end);
}

/** Sends 100 Continue when the body of request is first read, unless an answer has begun. */
function continueOnRead(request: IncomingMessage, response: ServerResponse): void {
  // _read is how a stream asks its source for data, whether the reader listens for 'data', pipes it
  // or iterates it: the body is wanted once it is first called.
  const readable = request as IncomingMessage & { _read(size: number): void };
  const read = readable._read;
  readable._read = function (this: IncomingMessage, size: number) {
    readable._read = read;
    if (!response.headersSent && !response.writableEnded) response.writeContinue();
    return read.call(this, size);
  };
}

/** Whether a request target needs originForm: not a plain path, or one with a slash to drop at an end. */
function needsOriginForm(target: string): boolean {
  if (target[0] !== '/' || target[1] === '/') return true;
  const query = target.indexOf('?');
  const end = query === -1 ? target.length : query;
  return end > 1 && target[end - 1] === '/';
}

/** The Fastify app: collector routes when this process collects, the query API when it serves queries. */
export function createHttpApp(options: HttpAppOptions): FastifyInstance {
  const { config, metrics } = options;
  const requests = createRequestCounter(metrics);
  // Answered before any route (no Host, a request the parser could not read, CONNECT), so counted
  // where they are answered, as Fastify counts a request no route matched.
  const unmatched = (status: number) => requests.socket(status);
  const collect = options.intake
    ? createIntakeHandler({
        config,
        intake: options.intake,
        workers: options.workers,
        requests,
        metrics,
        logger: options.logger,
      })
    : undefined;
  let closing = false;
  const app = Fastify({
    bodyLimit: config.limits.request_bytes,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // proxy-addr's trust by hop: the socket's peer is hop 0, then X-Forwarded-For from the right.
    trustProxy: (_address: string, hop: number) => hop < config.server.trust_proxy,
    return503OnClosing: true,
    clientErrorHandler: (error, socket) => handleClientError(error, socket, requests.socket),
    frameworkErrors: handleFrameworkError,
    // The collector's routes answer on the raw server before Fastify (see intake-handler.ts).
    serverFactory: (handler) => {
      const onRequest = (request: IncomingMessage, response: ServerResponse) => {
        // While stopping, each answer closes its connection: a keep-alive client that never paused
        // kept the server, and so the shutdown, waiting for as long as it sent.
        if (closing) response.setHeader('Connection', 'close');
        const target = request.url ?? '/';
        if (needsOriginForm(target)) request.url = originForm(target);
        // HTTP/1.1 requires Host (RFC 9112 §3.2), as Node does: a hand-written request may leave it out.
        if (request.headers.host === undefined && request.httpVersion === '1.1') {
          answerRaw(response, MISSING_HOST);
          unmatched(MISSING_HOST.status);
          return;
        }
        const coding = transferCodingRefusal(request.headers['transfer-encoding']);
        if (coding) {
          answerBeforeRoute(request, response, coding);
          unmatched(coding.status);
          return;
        }
        if (!collect?.(request, response)) handler(request, response);
      };
      const server = createServer(
        {
          requestTimeout: config.server.request_timeout_ms,
          // Node looks for overdue requests on this interval (30 s by default, too coarse for a
          // short timeout).
          connectionsCheckingInterval: Math.min(30_000, Math.max(50, config.server.request_timeout_ms / 4)),
          // Node's own refusal of a request without Host is a 400 with no body; it is answered below.
          requireHostHeader: false,
        },
        onRequest,
      );
      // Node keeps the first 2,000 headers and drops the rest without a word: a request with more had
      // its Content-Type or Authorization dropped when they came last, and was answered that it sent
      // none. The 16 KB limit on the headers' size (431) bounds them instead.
      server.maxHeadersCount = 0;
      server.on('connect', (request: IncomingMessage, socket: Duplex) =>
        handleConnect(request, socket, unmatched),
      );
      // An Expect other than 100-continue, which Node answered 417 with no body: RFC 9110 §10.1.1
      // lets a server ignore an expectation it does not know, and the request is served as any other.
      server.on('checkExpectation', onRequest);
      // Expect: 100-continue (curl sends it with a body over 1 MB): Node said 100 Continue before any
      // route had looked at the request, so a body announced too large was sent whole before its 413.
      // 100 Continue now goes out when the route first reads the body; one answered from its headers
      // alone (413, 401, 415) never asks for it.
      server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) => {
        continueOnRead(request, response);
        onRequest(request, response);
      });
      // A client that half-closes once its request is sent (socket.end(request), netcat -N) had its
      // request aborted and its connection closed on that FIN, before an answer that waits for the
      // WAL's fsync: its event was stored, and it never learnt so. Allowed, Node answers the request
      // and then closes the connection. (http.Server's own switch for this, read at each
      // client FIN since Node 0.x, though neither its docs nor its types name it.)
      return Object.assign(server, { httpAllowHalfOpen: true });
    },
  });
  app.addHook('preClose', async () => {
    closing = true;
    app.server.closeIdleConnections();
  });
  app.removeAllContentTypeParsers();
  // text/plain carries JSON too: it is what navigator.sendBeacon and analytics.js send without a CORS preflight.
  app.addContentTypeParser(
    ['application/json', 'text/plain'],
    { parseAs: 'buffer' },
    (request, body, done) => {
      try {
        // Read as UTF-8 whatever it declares, as the collector reads its bodies (and refuses others),
        // and as it reads them: a byte order mark (PowerShell 5 writes one) was an "Unexpected token".
        checkCharset(request.headers['content-type']?.toLowerCase() ?? '');
        const json = parseJsonBody(body as Buffer);
        // The API's bodies only: the collector's routes are served before Fastify, and its bodies
        // are held to their protocols' fields.
        refuseRepeatedKeys((body as Buffer).toString('utf8'));
        done(null, json);
      } catch (error) {
        const said =
          request.routeOptions.url === '/api/query' ? queryBodyError(error, body as Buffer) : error;
        done(said as Error, undefined);
      }
    },
  );
  app.setErrorHandler(createErrorHandler(options.logger));
  // Each route's methods and pattern, for the 405 below: hasRoute takes a route's own URL
  // (/v1/projects/:writeKey/settings), so a request's path with a parameter in it was a 404.
  const known: Array<{ method: string; pattern: RegExp }> = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) known.push({ method, pattern: routePattern(route.url) });
  });
  const answerNoRoute = (request: FastifyRequest, reply: FastifyReply) => {
    // Decoded as the router decodes it: GET /api/%71uery was a 404, where GET /api/query is a 405.
    const path = decodeUnreserved(request.url.split('?')[0] ?? '/');
    // A page's request to a wrong address (data-api="https://collect.example.com/collect" posts to
    // /collect/collect) could not read its 404 without this: the browser's fetch failed as a network
    // error, and the tracker retried it for good without a word. The refusal holds nothing secret.
    const origin = request.headers.origin;
    if (origin) reply.header('Access-Control-Allow-Origin', origin).header('Vary', 'Origin');
    const allowed = ROUTE_METHODS.filter((method) =>
      known.some((route) => route.method === method && route.pattern.test(path)),
    );
    if (allowed.length > 0)
      return reply
        .code(405)
        .header('Allow', allowed.join(', '))
        .send(wrongMethod(request.method, path, allowed).toJSON());
    const role = missingRole(path, options);
    const message = role
      ? `${request.method} ${path} is served by the ${role} role, which this inlet process does not run (started with --role); send it to the process that runs the ${role === 'web' ? 'web role' : role} (inlet start, or inlet start --role ${role}).`
      : /.\/collect$/.test(path)
        ? `No route ${request.method} ${path}; the tracker's data-api (createTracker's api) is the collector's address without /collect, which it adds.`
        : `No route ${request.method} ${path}; see the HTTP API in README.md.`;
    const error = new InletError('NOT_FOUND', message);
    // An <img> of a process without the collector showed the JSON as a broken image: the pixel's
    // refusals are the GIF, the reason in its headers (a POST is no image request).
    if (role && path === '/p.gif' && (request.method === 'GET' || request.method === 'HEAD'))
      return reply.code(404).headers(pixelErrorHeaders(error)).type('image/gif').send(PIXEL);
    return reply.code(404).send(error.toJSON());
  };
  app.setNotFoundHandler(answerNoRoute);

  // Once a request: on its answer's end, or as 499 when its connection closed first (the client went
  // away), which no onResponse follows: a POST /logs or /api/query whose client hung up mid-body was
  // counted nowhere.
  app.addHook('onRequest', (request, reply, done) => {
    let counted = false;
    const count = (status: number) => {
      if (counted) return;
      counted = true;
      requests.route(request.raw, request.routeOptions.url ?? 'unmatched', status);
    };
    reply.raw.once('finish', () => count(reply.statusCode));
    reply.raw.once('close', () => count(499));
    done();
  });

  // A request no route takes is answered here, before its body is parsed: Fastify's 404 handler runs
  // after the content-type parsers, so PUT /nope or POST /healthz with a body that is no JSON, not
  // gzip, or too large was answered 400, 413 or 415 for that body, where the same request with a good
  // or empty body got its 404 or 405. The body is dropped unread (this hook runs after the counting one).
  app.addHook('onRequest', (request, reply, done) => {
    if (!request.is404) return done();
    if (dropUnreadBody(request.raw)) reply.header('Connection', 'close');
    answerNoRoute(request, reply);
  });

  // A POST whose body HTTP/1.1 cannot read is told so, where a parser read it as empty; a route's
  // token check (onRequest) comes first.
  app.addHook('preParsing', async (request, _reply, payload) => {
    const unframed = request.method === 'POST' ? unframedBodyRefusal(request.headers) : undefined;
    if (unframed) throw unframed;
    return payload;
  });

  registerOpsRoutes(app, { wal: options.wal, metrics });
  if (options.intake) {
    registerTrackerRoutes(app);
    registerSdkRoutes(app, config);
  }
  if (options.logs) registerLogRoutes(app, { logs: options.logs, limits: config.limits });
  if (options.engine)
    registerQueryRoutes(app, {
      engine: options.engine,
      apiToken: options.apiToken,
      maxRows: config.query.max_rows,
      configFile: configFileName(config),
      bodyLimit: config.limits.request_bytes,
      logger: options.logger,
    });
  if (options.catalog) registerCatalogRoutes(app, { catalog: options.catalog, apiToken: options.apiToken });
  const { runs } = options;
  // Without a scheduler here (--role web), read once, when first asked: not at each request,
  // as reading them opens the dbt project.
  const loaded = options.workflows ?? readOnce(() => loadEachWorkflow(config));
  if (runs)
    registerRunsRoutes(app, {
      runs,
      apiToken: options.apiToken,
      workflowNames: () => workflowNames(config, runs),
      // Why a workflow is left out, as inlet runs --workflow says it: the API listed "backfill" alone.
      listWorkflows: (names) => listWorkflows(config, names),
      // Those an unset ${VAR} leaves out are listed as not loading, with what to set: they were listed nowhere.
      workflows: () => withLeftOutWorkflows(config, loaded()),
    });
  return app;
}
