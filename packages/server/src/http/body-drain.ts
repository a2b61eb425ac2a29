import type { IncomingMessage } from 'node:http';

// The rest of a request body that was refused before it was read, read on and dropped, so the
// answer reaches the client and the connection stays usable (the collector's refusals and the
// API's alike).

/**
 * Whether the request has a body not read to its end. One without a length or chunks has none, but is
 * complete only once Node has parsed past its headers, after an answer given at once (a preflight, a
 * HEAD) was written: that answer must not close the connection.
 */
export function bodyUnread(request: IncomingMessage): boolean {
  if (request.complete) return false;
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && Number(length) > 0);
}

/** The most of a refused body read on and dropped before the connection is closed instead. */
export const DRAIN_BYTES = 16 * 1024 * 1024;

/** Reads the rest of a refused body and drops it; past DRAIN_BYTES in all, closes the connection. */
export function drain(request: IncomingMessage): void {
  let read = 0;
  request.removeAllListeners('data');
  request.on('data', (chunk: Buffer) => {
    read += chunk.length;
    if (read > DRAIN_BYTES) request.socket.destroy();
  });
  // A client that goes away meanwhile leaves nothing to answer.
  request.on('error', () => {});
  request.resume();
}

/**
 * Drops the rest of a body refused unread: read on and dropped, or, announced larger than
 * DRAIN_BYTES, not waited for. True when the answer must then close the connection (Connection: close).
 */
export function dropUnreadBody(request: IncomingMessage): boolean {
  if (!bodyUnread(request)) return false;
  if (Number(request.headers['content-length'] ?? 0) > DRAIN_BYTES) return true;
  drain(request);
  return false;
}
