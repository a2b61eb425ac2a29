import { InletError } from '../errors/index.ts';

/** Parses a request body as JSON, with the errors a client is told (empty body, invalid JSON). */
export function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) throw new InletError('INVALID_JSON', 'The body is empty; send a JSON object.');
  // gzip's magic bytes: JSON.parse would only name an unprintable "unexpected token".
  if (body[0] === 0x1f && body[1] === 0x8b)
    throw new InletError(
      'INVALID_JSON',
      'The body is gzip-compressed, but the request has no Content-Encoding: gzip header; send it with one.',
    );
  try {
    // A byte order mark, which JSON.parse refuses as an invisible "unexpected token" (RFC 8259 lets a
    // parser ignore it).
    const start = body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? 3 : 0;
    return JSON.parse(body.toString('utf8', start));
  } catch (error) {
    throw new InletError('INVALID_JSON', `The body is not valid JSON: ${(error as Error).message}`);
  }
}
