import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { MAX_WRITE_KEY_LENGTH } from '../config/index.ts';
import { type ErrorCode, InletError, isInletError } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import { bodyUnread, DRAIN_BYTES, drain } from './body-drain.ts';
import { refuseHttp2 } from './http2-refusal.ts';
import { logBodyTooLarge } from './logs-routes.ts';
import { PIXEL, pixelErrorHeaders } from './pixel-image.ts';

// Fastify's own errors for things a client sent, mapped onto inlet's codes and messages.
const FASTIFY_ERRORS: Record<string, [ErrorCode, string]> = {
  FST_ERR_CTP_EMPTY_JSON_BODY: ['INVALID_JSON', 'The body is empty; send a JSON object.'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [
    'BAD_REQUEST',
    'Content-Length does not match the body that was sent.',
  ],
};

/**
 * What a refused Content-Type was, named: the usual cause is a client's default (curl -d sends a
 * form's type, fetch of raw bytes none), which a bare 'Unsupported Content-Type' left to guess.
 */
export function contentTypeRefused(type: string | undefined, where: string): string {
  return type
    ? `Content-Type ${type.slice(0, 100)} is not read ${where}`
    : 'The request has no Content-Type header';
}

/** The 415 of a route Fastify parses (the API, /logs), naming the type that came and those it takes. */
function unsupportedContentType(url: string, type: string | undefined): InletError {
  const [where, takes] = url.startsWith('/logs')
    ? ['by /logs', 'application/json (format json), application/x-ndjson (format json_lines) or text/plain']
    : ['here', 'application/json (or text/plain) with a JSON body'];
  return new InletError(
    'UNSUPPORTED_CONTENT_TYPE',
    `${contentTypeRefused(type, where)}; send Content-Type: ${takes}.`,
  );
}

/** A request whose path exists for other methods only: the 405 names the ones it takes. */
export function wrongMethod(
  method: string | undefined,
  path: string,
  allowed: readonly string[],
): InletError {
  // DELETE /api/query/$ID with $ID unset was told to send POST, which would run a query, not cancel one.
  if (method === 'DELETE' && /^\/+api\/query\/*$/.test(path))
    return new InletError(
      'METHOD_NOT_ALLOWED',
      'DELETE /api/query needs the id of the query to cancel after it: DELETE /api/query/<query_id>, the query_id its POST /api/query gave (an unset variable?).',
    );
  return new InletError(
    'METHOD_NOT_ALLOWED',
    `${path} does not take ${method}; send ${allowed.join(' or ')} (see the HTTP API in README.md).`,
  );
}

/**
 * A 413 that says what the endpoint a client sent to accepts: the limit in bytes, counted after
 * decompression, as the collector's says (a gzip client sent fewer bytes than the limit).
 */
export function bodyTooLarge(url: string, limit: number): InletError {
  if (url.startsWith('/logs')) return logBodyTooLarge();
  const advice = url.startsWith('/api/')
    ? 'send a shorter request or raise limits.request_bytes'
    : 'send smaller batches';
  return new InletError(
    'BODY_TOO_LARGE',
    `The request body is larger than limits.request_bytes (${limit} bytes, counted after decompression); ${advice}.`,
  );
}

/**
 * Maps every error to a JSON body with a code; only a real fault of inlet's becomes a 500. bodyLimit is
 * the limit of the route the error came from.
 */
export function toInletError(
  error: unknown,
  url = '',
  bodyLimit = 0,
  contentType?: string,
): InletError | undefined {
  if (isInletError(error)) return error;
  const e = error as FastifyError & { code?: string; errno?: number };
  const mapped = e.code ? FASTIFY_ERRORS[e.code] : undefined;
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || e.code === 'FST_ERR_CTP_EMPTY_TYPE')
    return unsupportedContentType(url, contentType);
  if (mapped) return new InletError(mapped[0], mapped[1]);
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return bodyTooLarge(url, bodyLimit);
  if (e.code === 'ECONNRESET' || e.code === 'ECONNABORTED')
    return new InletError(
      'REQUEST_ABORTED',
      'The client closed the connection before its request body was complete; nothing of it was written.',
    );
  if (e.code === 'Z_DATA_ERROR' || e.code === 'Z_BUF_ERROR')
    return new InletError(
      'BAD_REQUEST',
      'The body is not valid gzip or deflate data for its Content-Encoding.',
    );
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500)
    return new InletError('BAD_REQUEST', e.message);
  return undefined;
}

/**
 * Fastify answers a body it could not parse (not JSON, not gzip, too large) with Connection: close,
 * yet the requests a client pipelined behind it on that connection were parsed and run all the
 * same: their events were written, and their answers lost as the connection closed. The rest of the
 * body is read and dropped instead, as the collector does, and the connection kept; a body announced
 * larger than DRAIN_BYTES still closes it, and so does inlet stopping (set on Node's response).
 */
function keepConnection(request: FastifyRequest, reply: FastifyReply): void {
  if (reply.getHeader('connection') !== 'close' || reply.raw.getHeader('connection') !== undefined) return;
  if (Number(request.headers['content-length'] ?? 0) > DRAIN_BYTES) return;
  reply.removeHeader('connection');
  if (bodyUnread(request.raw)) drain(request.raw);
}

export function createErrorHandler(logger: Logger) {
  return (error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const known = toInletError(
      error,
      request.url,
      request.routeOptions.bodyLimit,
      request.headers['content-type'],
    );
    if (known) {
      keepConnection(request, reply);
      if (known.retryAfterSeconds !== undefined) reply.header('Retry-After', String(known.retryAfterSeconds));
      return reply.code(known.status).send(known.toJSON());
    }
    logger.error(
      { err: error, url: request.url, method: request.method },
      'unexpected error while handling a request',
    );
    return reply.code(500).send({
      error: { code: 'INTERNAL', message: 'inlet failed to handle this request; the error is in its log.' },
    });
  };
}

/** Answers a request on Node's response, before any route, with an error, and closes the connection. */
export function answerRaw(response: ServerResponse, error: InletError): void {
  const body = JSON.stringify(error.toJSON());
  response.writeHead(error.status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    Connection: 'close',
  });
  response.end(body);
}

/**
 * Told the status of each answer written straight on a socket, with the request a route has that it
 * answers, if any (that route counts it); else no route's hook counts it.
 */
export type OnSocketAnswer = (status: number, request?: IncomingMessage) => void;

/**
 * Answers a request Node's HTTP parser could not read (Fastify's clientErrorHandler) in inlet's error
 * shape, naming the parser's complaint, then closes the connection: after a parse error nothing
 * more can be read from it.
 */
export function handleClientError(
  error: Error & { code?: string },
  socket: Duplex,
  onAnswer?: OnSocketAnswer,
): void {
  if (error.code === 'ECONNRESET' || socket.destroyed || refusing.has(socket)) return;
  // The answer Node is writing on this socket, if any (http.Server keeps it there as _httpMessage).
  const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
  // The request whose body the parser was reading, if it had read a head: a route has that request.
  const reading = (socket as Duplex & { parser?: { incoming?: IncomingMessage | null } | null }).parser
    ?.incoming;
  const routed = reading && !reading.complete ? reading : undefined;
  const wentAway = routed !== undefined && error.code === 'HPE_INVALID_EOF_STATE';
  // Its route answered it before reading its body (a 401 reads none), then the client went away:
  // it has its answer, and a 400 after it would answer nothing it sent.
  if (wentAway && inFlight?.req !== routed) {
    socket.destroy();
    return;
  }
  if (inFlight && !inFlight.writableFinished) {
    // A whole request came before the bytes that are not HTTP: the parser's 400 replaced its answer,
    // though its events may be stored. It keeps its answer; the 400 follows, then the connection closes.
    if (inFlight.req.complete) {
      refusing.add(socket);
      const answer = () => answerOnSocket(socket, clientErrorOf(error), '', onAnswer);
      inFlight.once('finish', answer);
      inFlight.once('close', () => {
        if (!socket.destroyed) answer();
      });
      return;
    }
    // Part of an answer is on the wire already: a 400 in its middle would corrupt it.
    if (inFlight.headersSent) {
      socket.destroy();
      return;
    }
  }
  if (error.code === 'HPE_PAUSED_H2_UPGRADE') {
    refuseHttp2(socket, HTTP2_REFUSAL);
    onAnswer?.(505);
    return;
  }
  const refused = clientErrorOf(error);
  // The answer is routed's, whose route counts it: as 499 when its client went away (nginx's code),
  // though the client that only half-closed can still read why its request was not served.
  const answered = (status: number) => onAnswer?.(wentAway ? 499 : status, routed);
  // A pixel URL too long to read (a template's long p=) got JSON, which an <img> draws as a broken image.
  const start = (error as { rawPacket?: Buffer }).rawPacket?.subarray(0, 16).toString('latin1') ?? '';
  if (/^(GET|HEAD) \/p\.gif[?# ]/.test(start)) {
    const headers = Object.entries(pixelErrorHeaders(refused)).map(
      ([name, value]) => `${name}: ${value}\r\n`,
    );
    answerOnSocket(socket, refused, headers.join(''), answered, PIXEL);
    return;
  }
  answerOnSocket(socket, refused, '', answered);
}

const HTTP2_REFUSAL =
  'inlet speaks HTTP/1.1: this connection began with the preface of HTTP/2 without TLS (prior knowledge, h2c). Send HTTP/1.1 (curl without --http2-prior-knowledge; a proxy with HTTP/1.1 to its upstream).';

/** Sockets whose 400 waits for the answer before it; the parser's later complaints are not answered again. */
const refusing = new WeakSet<Duplex>();

/** What a parser or timeout error of Node's HTTP server is, in inlet's words. */
function clientErrorOf(error: Error & { code?: string }): InletError {
  switch (error.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new InletError(
        'REQUEST_TIMEOUT',
        'The request was not complete within the server’s time limit; send the whole body at once.',
      );
    // A client that half-closed (socket.end, netcat -N) before its body was whole: the parser's
    // name for it, HPE_INVALID_EOF_STATE, told nobody what had happened.
    case 'HPE_INVALID_EOF_STATE':
      return new InletError(
        'BAD_REQUEST',
        'The client ended its side of the connection before the whole request had come (a body shorter than its Content-Length, or chunked without the last, empty chunk); nothing of it was stored. Send the whole body before ending the connection.',
      );
    // Transfer-Encoding whose last coding is not chunked (gzip, identity) or names chunked twice:
    // the body cannot be framed, and RFC 9112 §6.1 makes that a 400 with the connection closed.
    case 'HPE_INVALID_TRANSFER_ENCODING':
      return new InletError(
        'BAD_REQUEST',
        "The request's Transfer-Encoding does not end with chunked, named once, so where its body ends cannot be read; send the body with Content-Length or Transfer-Encoding: chunked, and compress it with Content-Encoding: gzip or deflate.",
      );
    // Node counts the request line in: a long query string overflows as huge cookies do.
    case 'HPE_HEADER_OVERFLOW':
      return new InletError(
        'HEADERS_TOO_LARGE',
        "The request's URL and headers are larger than 16 KB together; send a shorter URL (long data belongs in a POST body) or fewer or smaller headers (cookies, usually).",
      );
    default:
      return new InletError(
        'BAD_REQUEST',
        `The request is not valid HTTP/1.1 (${error.code ?? 'parse error'}: ${error.message}); check the client that sent it.`,
      );
  }
}

/** Writes an error as a whole HTTP answer on a socket no response object serves, then closes it. */
function answerOnSocket(
  socket: Duplex,
  error: InletError,
  headers = '',
  onAnswer?: OnSocketAnswer,
  image?: Buffer,
): void {
  const body = image ?? Buffer.from(JSON.stringify(error.toJSON()));
  const type = image ? 'image/gif' : 'application/json; charset=utf-8';
  if (socket.writable) {
    const head =
      `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status]}\r\nContent-Length: ${body.length}\r\n` +
      `Content-Type: ${type}\r\n${headers}Connection: close\r\n\r\n`;
    socket.write(Buffer.concat([Buffer.from(head), body]));
    onAnswer?.(error.status);
  }
  socket.destroy();
}

/**
 * Answers CONNECT (Node's 'connect' event, which gets the socket and no response): with no listener,
 * Node closed the connection unanswered.
 */
export function handleConnect(_request: unknown, socket: Duplex, onAnswer?: OnSocketAnswer): void {
  socket.on('error', () => {});
  answerOnSocket(
    socket,
    new InletError(
      'METHOD_NOT_ALLOWED',
      'inlet is no proxy and takes no CONNECT; send GET or POST to one of its routes (see the HTTP API in README.md).',
    ),
    `Allow: ${['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'].join(', ')}\r\n`,
    onAnswer,
  );
}

/**
 * The longest path parameter (Fastify's maxParamLength): a write key in the SDKs' settings paths may
 * be as long as inlet.yaml lets one be. At Fastify's 100, a site with a longer key
 * (openssl rand -hex 64) had analytics.js's settings refused 414.
 */
export const MAX_PARAM_LENGTH = MAX_WRITE_KEY_LENGTH;

/**
 * Fastify's own refusals of a URL before any route runs (Fastify's frameworkErrors): a path
 * parameter that is not valid percent-encoding, or longer than Fastify's limit.
 */
export function handleFrameworkError(error: FastifyError, _request: FastifyRequest, reply: FastifyReply) {
  const known =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? new InletError(
          'URL_TOO_LONG',
          `A part of the URL path is longer than ${MAX_PARAM_LENGTH} characters; no table, run or query id, nor a write key inlet reads, is that long.`,
        )
      : new InletError(
          'BAD_REQUEST',
          'The URL path is not valid percent-encoding; encode it with encodeURIComponent.',
        );
  return reply.code(known.status).send(known.toJSON());
}
