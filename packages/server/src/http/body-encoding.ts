import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { InletError } from '../errors/index.ts';
import { createDeflateDecoder } from './deflate-decoder.ts';

/**
 * A Fastify preParsing hook that reads a gzip or deflate body (its Content-Encoding) and refuses
 * any other encoding, as the collector does; the route's body limit counts what the body decodes
 * to. `tooLarge` is the refusal of a body announced larger than `limit`.
 */
export function decodeContentEncoding(limit: number, tooLarge: () => InletError) {
  return async (request: FastifyRequest, _reply: FastifyReply, payload: Readable) => {
    const encoding = request.headers['content-encoding']?.toLowerCase();
    if (!encoding || encoding === 'identity') return payload;
    if (encoding !== 'gzip' && encoding !== 'x-gzip' && encoding !== 'deflate')
      throw new InletError(
        'UNSUPPORTED_ENCODING',
        `Content-Encoding ${encoding} is not supported; send gzip, deflate or no encoding.`,
      );
    // Before any decoder exists: Fastify refuses such a body without reading it, and a decoder
    // fed by it would fail with no one listening.
    if (Number(request.headers['content-length'] ?? 0) > limit) throw tooLarge();
    const decoder = Object.assign(encoding === 'deflate' ? createDeflateDecoder() : createGunzip(), {
      receivedEncodedLength: 0,
    });
    // Fastify stops listening once a body is past its limit; the rest of it may still fail to decode.
    decoder.on('error', () => {});
    payload.on('data', (chunk: Buffer) => {
      decoder.receivedEncodedLength += chunk.length;
    });
    payload.on('error', (error) => decoder.destroy(error));
    return payload.pipe(decoder);
  };
}
