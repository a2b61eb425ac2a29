import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { type ErrorCode, InletError, isInletError } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';

// Fastify's own errors for things a client sent, mapped onto inlet's codes and messages.
const FASTIFY_ERRORS: Record<string, [ErrorCode, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [
    'BODY_TOO_LARGE',
    'The request body is larger than limits.request_bytes; send smaller batches.',
  ],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [
    'UNSUPPORTED_CONTENT_TYPE',
    'Unsupported Content-Type; send application/json or text/plain.',
  ],
  FST_ERR_CTP_EMPTY_JSON_BODY: ['INVALID_JSON', 'The body is empty; send a JSON object.'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [
    'BAD_REQUEST',
    'Content-Length does not match the body that was sent.',
  ],
  FST_ERR_CTP_EMPTY_TYPE: [
    'UNSUPPORTED_CONTENT_TYPE',
    'Content-Type is empty; send application/json or text/plain.',
  ],
};

/** Maps every error to a JSON body with a code; only a real fault of inlet's becomes a 500. */
export function toInletError(error: unknown): InletError | undefined {
  if (isInletError(error)) return error;
  const e = error as FastifyError & { code?: string; errno?: number };
  const mapped = e.code ? FASTIFY_ERRORS[e.code] : undefined;
  if (mapped) return new InletError(mapped[0], mapped[1]);
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

export function createErrorHandler(logger: Logger) {
  return (error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const known = toInletError(error);
    if (known) {
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
