import type { FastifyInstance, FastifyRequest } from 'fastify';
import { addressKey, createRateLimiter, parseJson, refuseUtf16 } from '../collect/index.ts';
import type { InletConfig } from '../config/index.ts';
import { InletError } from '../errors/index.ts';
import { type LogIntake, parseJsonLines, recordsOf, requestKey } from '../sources/file-log/index.ts';
import { basicCredentialsUser } from './basic-credentials.ts';
import { decodeContentEncoding } from './body-encoding.ts';
import { checkCharset } from './intake-body.ts';
import { isJsonLines, objectStreamAsArray } from './log-body-forms.ts';

// Fluent Bit flushes chunks of up to a few MB; refusing one with 413 would make it retry forever.
export const LOG_BODY_BYTES = 16 * 1024 * 1024;

export const logBodyTooLarge = () =>
  new InletError(
    'BODY_TOO_LARGE',
    `The request body is larger than the ${LOG_BODY_BYTES / 1024 / 1024} MB (${LOG_BODY_BYTES} bytes, counted after decompression) a log request may carry; send fewer records a request.`,
  );
/**
 * The most records one log request may carry. Each becomes a row of some 200 bytes in the WAL,
 * however small it came: 16 MB of {} lines made over a gigabyte of it and failed with a 500 once it
 * outgrew a JavaScript string. Fluent Bit's chunks, about 2 MB, hold far fewer.
 */
export const LOG_RECORDS_PER_REQUEST = 200_000;

const tooManyRecords = () =>
  new InletError(
    'BODY_TOO_LARGE',
    `The request carries more than ${LOG_RECORDS_PER_REQUEST.toLocaleString('en-US')} log records, the most one request takes; send fewer records a request.`,
  );
const SOURCE_NAME = /^[a-z][a-z0-9_]{0,62}$/;

/** Each request's body as text, once decompressed: a retried chunk is known by it. */
const bodyTexts = new WeakMap<FastifyRequest, string>();
/**
 * The requests whose body is JSON lines, its text left to parse line by line. Told apart from a
 * body that is one JSON string (`"hi"`, or a document encoded twice), which was read as JSON lines
 * and answered 200 with its text a reject, or stored as a record.
 */
const jsonLinesBodies = new WeakSet<FastifyRequest>();

/**
 * The refusal of a JSON body with nothing in it, gzipped or not, which JSON.parse answered
 * "Unexpected end of JSON input". (JSON lines with no line are none, and answered as such.)
 */
const emptyBody = (encoding: string | undefined) =>
  new InletError(
    'INVALID_JSON',
    `The body is empty${encoding && encoding.toLowerCase() !== 'identity' ? ' once decompressed' : ''}; send log records, a JSON array of them (Fluent Bit's format json), or one a line with Content-Type: application/x-ndjson (format json_lines).`,
  );

/**
 * The write key, from the first of: HTTP Basic user (Fluent Bit http_User; the password is
 * ignored), Authorization: Bearer, an X-Inlet-Key header (Fluent Bit `Header`), or ?key=.
 */
function writeKeyOf(request: FastifyRequest): string | undefined {
  const auth = request.headers.authorization ?? '';
  // Schemes are case-insensitive (RFC 9110 §11.1): curl users write basic and bearer too.
  const [, scheme = '', credentials = ''] = /^(\S+) +(.*)$/.exec(auth.trim()) ?? [];
  if (scheme.toLowerCase() === 'basic') {
    const decoded = Buffer.from(credentials, 'base64').toString('utf8');
    const user = basicCredentialsUser(decoded);
    if (user) return user;
  }
  if (scheme.toLowerCase() === 'bearer') return credentials.trim() || undefined;
  const header = request.headers['x-inlet-key'];
  if (typeof header === 'string' && header) return header;
  // ?key=a&key=b is parsed to an array: its first, as the pixel and the beacon take theirs.
  const query = (request.query as Record<string, unknown>).key;
  const key = Array.isArray(query) ? query[0] : query;
  return typeof key === 'string' && key ? key : undefined;
}

/** POST /logs: Fluent Bit's `http` output (format json or json_lines, gzip or not) into access_logs/app_logs. */
export function registerLogRoutes(
  app: FastifyInstance,
  options: { logs: LogIntake; limits: InletConfig['limits'] },
) {
  const { logs } = options;
  // Write keys are public, so the same limits as the event intake hold here: requests per client
  // address, and records per write key (counted apart from its events).
  const ipLimit = createRateLimiter(options.limits.per_ip_per_second);
  const keyLimit = createRateLimiter(options.limits.per_write_key_per_second);
  const rateLimited = (what: string, retryAfterSeconds = 1) =>
    new InletError('RATE_LIMITED', `Too many ${what}; slow down and retry.`, { retryAfterSeconds });
  /**
   * A body's text, read as UTF-8. A UTF-16 one (PowerShell 5's > and Out-File) is refused as such:
   * as JSON it was "not valid JSON" naming U+FFFD or a NUL, and as JSON lines each line a reject.
   */
  const bodyText = (request: FastifyRequest, body: Buffer): string => {
    refuseUtf16(body);
    const text = body.toString('utf8');
    bodyTexts.set(request, text);
    return text;
  };
  app.register(async (scope) => {
    scope.addContentTypeParser(
      ['application/x-ndjson', 'application/jsonl', 'application/json-lines'],
      { parseAs: 'buffer' },
      (request, body, done) => {
        let text: string;
        try {
          text = bodyText(request, body as Buffer);
        } catch (error) {
          return done(error as Error, undefined);
        }
        jsonLinesBodies.add(request);
        done(null, text);
      },
    );
    // Integers beyond 2^53 (64-bit ids, numeric trace ids) keep their digits, as the event intake
    // keeps them: JSON.parse rounded 1234567890123456789 to 1234567890123456800.
    scope.removeContentTypeParser(['application/json', 'text/plain']);
    scope.addContentTypeParser(
      ['application/json', 'text/plain'],
      { parseAs: 'buffer' },
      (request, body, done) => {
        let text: string;
        try {
          // A byte order mark, which Windows tools write before UTF-8 (PowerShell 5's -Encoding utf8),
          // refused the body as an "Unexpected token" naming a character no one sees (U+FEFF); JSON
          // readers may ignore it (RFC 8259 §8.1), and JSON lines already did.
          text = bodyText(request, body as Buffer).replace(/^\uFEFF/, '');
        } catch (error) {
          return done(error as Error, undefined);
        }
        try {
          done(null, parseJson(text));
        } catch (error) {
          if (isJsonLines(text)) {
            jsonLinesBodies.add(request);
            return done(null, text);
          }
          const stream = objectStreamAsArray(text);
          if (stream !== undefined) {
            try {
              return done(null, parseJson(stream));
            } catch {
              // Not JSON within the objects either: refused as the body it came as.
            }
          }
          done(
            /^\s*$/.test(text)
              ? emptyBody(request.headers['content-encoding'])
              : new InletError('INVALID_JSON', `The body is not valid JSON: ${(error as Error).message}`),
            undefined,
          );
        }
      },
    );
    // Bodies are read as UTF-8, as the collector's are: a latin1 one had its accents broken.
    scope.addHook('preParsing', async (request, _reply, payload) => {
      checkCharset(request.headers['content-type']?.toLowerCase() ?? '');
      return payload;
    });
    // The size limit applies to the decompressed body too (Fastify counts the decoder's output).
    scope.addHook('preParsing', decodeContentEncoding(LOG_BODY_BYTES, logBodyTooLarge));

    scope.post('/logs', { bodyLimit: LOG_BODY_BYTES }, async (request, reply) => {
      if (!ipLimit(addressKey(request.ip))) throw rateLimited('requests from this address');
      const writeKey = writeKeyOf(request);
      const site = logs.siteFor(writeKey);
      // ?source=a&source=b is parsed to an array: its first, as ?key= takes its (a name given twice
      // was refused as not lower case, which named no fault of either).
      const given = (request.query as Record<string, unknown>).source ?? 'http';
      const source = Array.isArray(given) ? given[0] : given;
      if (typeof source !== 'string' || !SOURCE_NAME.test(source))
        throw new InletError(
          'INVALID_FIELD',
          'source: must start with a lower-case letter and hold only lower-case letters, digits and _ (at most 63)',
          {
            details: { field: 'source' },
          },
        );
      const items =
        jsonLinesBodies.has(request) && typeof request.body === 'string'
          ? parseJsonLines(request.body, LOG_RECORDS_PER_REQUEST)
          : recordsOf(request.body);
      if (items.length > LOG_RECORDS_PER_REQUEST) throw tooManyRecords();
      if (!keyLimit(writeKey as string, items.length))
        throw rateLimited(
          `log records for site ${site}`,
          keyLimit.retryAfter(writeKey as string, items.length),
        );
      // Answered only once every record is fsynced in the log WAL. A body sent again (Fluent Bit
      // retrying a chunk whose answer it lost) is answered as before and not stored twice.
      const body = bodyTexts.get(request);
      const key = body === undefined ? undefined : requestKey(site, source, body);
      return reply.code(200).send(await logs.accept(items, { site, source, key }));
    });
  });
}
