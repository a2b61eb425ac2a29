import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { InletError } from '../errors/index.ts';
import { bodyUnread, drain } from './body-drain.ts';

// Node's parser reads chunked framing and ignores any other transfer coding listed before it: a body
// sent with Transfer-Encoding: gzip, chunked reached the routes still compressed (refused as "gzip
// without Content-Encoding: gzip", which it had declared), and one under a coding nobody knows
// (x-foo, chunked) was stored as if it had none.

/**
 * The refusal of a request whose Transfer-Encoding names a coding before chunked, which is the only
 * one inlet reads: RFC 9112 §6.1 answers a transfer coding a server does not understand with 501.
 * One whose last coding is not chunked is left to Node's parser, which refuses it (400) once the
 * route has it.
 */
export function transferCodingRefusal(header: string | undefined): InletError | undefined {
  if (header === undefined || header === 'chunked') return undefined;
  const codings = header.toLowerCase().split(',');
  if (codings.length === 1 || codings[codings.length - 1]?.trim() !== 'chunked') return undefined;
  return new InletError(
    'UNSUPPORTED_TRANSFER_ENCODING',
    `Transfer-Encoding ${header.slice(0, 100)} is not supported: inlet reads chunked alone; send the body with Content-Length or Transfer-Encoding: chunked, and compress it with Content-Encoding: gzip or deflate.`,
  );
}

/**
 * The refusal of a POST with neither Content-Length nor Transfer-Encoding, for which HTTP/1.1 reads
 * no body (RFC 9112 §6.3): a hand-written client that wrote its body after the headers was told
 * "The body is empty", which it was not sent as, and its body was read as the next request.
 */
export function unframedBodyRefusal(headers: IncomingHttpHeaders): InletError | undefined {
  if (headers['content-length'] !== undefined || headers['transfer-encoding'] !== undefined) return undefined;
  return new InletError(
    'BAD_REQUEST',
    'The request has neither Content-Length nor Transfer-Encoding, so HTTP/1.1 reads no body from it (bytes sent after its headers are read as the next request); send the body with Content-Length: <its size in bytes> or Transfer-Encoding: chunked, as HTTP clients do by themselves.',
  );
}

/**
 * Answers a request refused before any route, reading on and dropping its body (its chunks are
 * framed, so the connection stays usable), as the collector's other refusals do.
 */
export function answerBeforeRoute(
  request: IncomingMessage,
  response: ServerResponse,
  error: InletError,
): void {
  const body = JSON.stringify(error.toJSON());
  if (bodyUnread(request)) drain(request);
  response.writeHead(error.status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
  });
  response.end(body);
}
