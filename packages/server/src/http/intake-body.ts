import { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { parseJsonBody } from '../collect/index.ts';
import { InletError } from '../errors/index.ts';
import { createDeflateDecoder } from './deflate-decoder.ts';
import { contentTypeRefused, toInletError } from './error-handler.ts';
import { unframedBodyRefusal } from './transfer-coding.ts';

// A collector route's body as it is read: its framing, type, charset and encoding checked, then
// decompressed and counted against limits.request_bytes.

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
export async function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
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
export async function readJson(request: IncomingMessage, limit: number): Promise<unknown> {
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

// The limit in the message: a gzip bomb's client sent a few KB, and learns the limit counts what it unpacks to.
const tooLarge = (limit: number) =>
  new InletError(
    'BODY_TOO_LARGE',
    `The request body is larger than limits.request_bytes (${limit} bytes, counted after decompression); send smaller batches.`,
  );
