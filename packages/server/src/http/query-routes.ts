import { timingSafeEqual } from 'node:crypto';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { keyIn } from '../config/index.ts';
import type { QueryEngine, QueryStream } from '../engine/index.ts';
import { InletError } from '../errors/index.ts';
import { errorFields, type Logger } from '../log/index.ts';
import { dropUnreadBody } from './body-drain.ts';
import { decodeContentEncoding } from './body-encoding.ts';
import { csvLine } from './csv.ts';
import { bodyTooLarge } from './error-handler.ts';
import { sendQueryAnswer } from './json-answer.ts';
import { refuseUnknownParameters } from './url-parameters.ts';

const BODY_FIELDS = new Set(['sql', 'max_rows', 'query_id']);

/**
 * What a field the body does not take is refused with, and where it belongs when it is another's
 * (configFile: the configuration file, configFileName).
 */
function unknownField(field: string, configFile: string): InletError {
  const hint =
    field === 'format'
      ? 'ask for CSV with POST /api/query?format=csv'
      : `which takes sql, max_rows and query_id${/^timeout/i.test(field) ? `; a query stops at ${keyIn('query.timeout_ms', configFile)}` : ''}`;
  return new InletError(
    'INVALID_FIELD',
    `${field}: is not a field of the body${field === 'format' ? '; ' : ', '}${hint}`,
    { details: { field } },
  );
}

/**
 * The body's max_rows. An integer beyond 2^53 arrives as its digits (parseJson keeps such integers
 * as strings) and asks for more rows than query.max_rows allows, which caps it: "must be a
 * non-negative integer" refused it as it refused the text "10", and named neither.
 */
function parseMaxRows(value: unknown): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  // 1e400 reads as Infinity: as many rows as there are, as an integer beyond 2^53 asks.
  const long = typeof value === 'string' && /^-?\d{16,}$/.test(value) && !Number.isSafeInteger(Number(value));
  if (value === Number.POSITIVE_INFINITY || (long && !value.startsWith('-'))) return Number.MAX_SAFE_INTEGER;
  const given =
    typeof value === 'number' || long
      ? String(value)
      : typeof value === 'string'
        ? `the text ${JSON.stringify(value)}${/^\s*\d+\s*$/.test(value) ? ', in quotes: write it without them' : ''}`
        : JSON.stringify(value);
  throw new InletError(
    'INVALID_FIELD',
    `max_rows: must be a whole number of rows, 0 or more, as a JSON number ("max_rows": 1000), not ${given}`,
    { details: { field: 'max_rows' } },
  );
}

function parseQueryBody(
  body: unknown,
  configFile: string,
): { sql: string; maxRows: number | undefined; id: string | undefined } {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new InletError('INVALID_FIELD', 'body: must be a JSON object such as {"sql": "SELECT 1"}', {
      details: { field: 'body' },
    });
  // A field taken for another ("format": "csv", "maxRows") was ignored: the answer looked right
  // and was not what was asked for.
  const unknown = Object.keys(body).find((field) => !BODY_FIELDS.has(field));
  if (unknown !== undefined) throw unknownField(unknown, configFile);
  const { sql, max_rows: maxRows, query_id: id } = body as Record<string, unknown>;
  if (typeof sql !== 'string' || sql.trim() === '')
    throw new InletError('INVALID_FIELD', 'sql: must be a non-empty string', { details: { field: 'sql' } });
  const rows = maxRows === undefined ? undefined : parseMaxRows(maxRows);
  // An empty id could be given, but never named in DELETE /api/query/:id to cancel the query.
  if (id !== undefined && (typeof id !== 'string' || id.length === 0 || id.length > 100))
    throw new InletError('INVALID_FIELD', 'query_id: must be a string of 1 to 100 characters (a UUID, say)', {
      details: { field: 'query_id' },
    });
  // Nor could . or ..: URL parsers (fetch, browsers, curl) take them, escaped or not, as the path's
  // own segments, and DELETE /api/query/.. reaches /api/.
  if (id === '.' || id === '..')
    throw new InletError(
      'INVALID_FIELD',
      `query_id: "${id}" cannot be named in a URL to cancel the query; give an id such as a UUID`,
      {
        details: { field: 'query_id' },
      },
    );
  return { sql, maxRows: rows, id: id as string | undefined };
}

/**
 * A body's JSON error for POST /api/query, with what to send when the body is SQL as text (curl
 * --data-binary @weekly.sql, as ClickHouse's and Trino's HTTP APIs take it): "Unexpected token 'S',
 * "SELECT 1" is not valid JSON" said nothing of the {"sql": …} it wanted.
 */
export function queryBodyError(error: unknown, body: Buffer): unknown {
  if (!(error instanceof InletError) || error.code !== 'INVALID_JSON') return error;
  if (!/^\s*([A-Za-z(]|--|\/\*)/.test(body.subarray(0, 100).toString('utf8'))) return error;
  return new InletError(
    'INVALID_JSON',
    `${error.message}; POST /api/query takes the SQL inside a JSON object, {"sql": "SELECT 1"}, not as the body's text`,
  );
}

/** About the most JSON one answer holds; a larger result is cut off and marked truncated (use CSV). */
const JSON_ANSWER_BYTES = 100 * 1024 * 1024;

/** A bearer-token check in constant time. */

/**
 * Streams a query's rows to reply as CSV, up to wanted rows, and resolves once they are written out
 * or the client went away, which is when the query gives up its slot.
 */
async function sendCsvExport(
  reply: FastifyReply,
  { columns, chunks, stopped }: QueryStream,
  options: { wanted: number; id: string | undefined; logger: Logger | undefined },
): Promise<void> {
  const { wanted, id, logger } = options;
  let rows = 0;
  let reported = false;
  // The client only sees the export cut off; the reason is logged here, once (a client that went
  // away, which cancels its query, is no cause for a warning).
  const report = (error: unknown) => {
    if (reported) return;
    reported = true;
    const cancelled = (error as { code?: string }).code === 'QUERY_CANCELLED';
    logger?.[cancelled ? 'info' : 'warn'](
      { ...errorFields(error), rows, query_id: id },
      'a CSV export stopped part-way; its response was cut off',
    );
  };
  async function* lines() {
    yield csvLine(columns.map((c) => c.name));
    try {
      for await (const chunk of chunks) {
        if (rows >= wanted) break;
        const taken = chunk.length > wanted - rows ? chunk.slice(0, wanted - rows) : chunk;
        let out = '';
        for (const row of taken) out += csvLine(row);
        rows += taken.length;
        yield out;
        // Stop at the last row wanted, not at the chunk after it: DuckDB may hold that chunk
        // back until its scan is done, and the export, whole already, then ran into the timeout.
        if (rows >= wanted) break;
      }
    } catch (error) {
      report(error);
      throw error;
    }
  }
  // A client that stops reading pauses the export where no chunk can tell it that the query's time
  // is up or that it was cancelled, and the query kept its slot for as long as the client kept the
  // connection open: the response is cut off then, which ends the wait below.
  stopped.addEventListener(
    'abort',
    () => {
      if (reply.raw.writableFinished) return;
      report(stopped.reason);
      reply.raw.destroy();
    },
    { once: true },
  );
  reply.header('Content-Type', 'text/csv; charset=utf-8');
  await reply.send(Readable.from(lines()));
  // Keep the connection (and the query's slot) until the stream has been written out, or the
  // client went away. finished() also settles when that happened before this line: a short
  // export is often written by now, and waiting for its 'close' event held the slot forever.
  await finished(reply.raw).catch(() => {});
}

export function createTokenCheck(token: string) {
  // An empty token would equal the empty one of a request without Authorization.
  if (token.length === 0) throw new Error('the API token is empty');
  const expected = Buffer.from(token);
  return async (request: FastifyRequest) => {
    // The scheme's name is case-insensitive (RFC 9110 §11.1): some clients send "bearer".
    const bearer = /^bearer +(\S+) *$/i.exec(request.headers.authorization ?? '');
    const given = Buffer.from(bearer?.[1] ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new InletError(
        'UNAUTHORIZED',
        'Missing or wrong API token; send Authorization: Bearer <token>, with the value of INLET_API_TOKEN, or, when that is not set, the token inlet generated into data/state/api-token under its data_dir (inlet start logs where).',
      );
    }
  };
}

/** POST /api/query (JSON, or CSV streamed with ?format=csv) and DELETE /api/query/:id to cancel. */
export function registerQueryRoutes(
  app: FastifyInstance,
  options: {
    engine: QueryEngine;
    apiToken: string;
    maxRows: number;
    /** The configuration file that sets query.max_rows and query.timeout_ms, as messages name it (configFileName). */
    configFile: string;
    /** limits.request_bytes, which a body is held to once decoded. */
    bodyLimit: number;
    logger?: Logger;
  },
) {
  const { engine } = options;
  // The request's max_rows can only lower query.max_rows.
  const rowLimit = (asked: number | undefined) => Math.min(asked ?? options.maxRows, options.maxRows);
  // The note names the limit that stopped the answer: one from the configuration named as max_rows sent a
  // client that gave none looking for it in its request, and one that asked for more was not told why.
  const limitName = (asked: number | undefined) => (rows: number) =>
    asked !== undefined && asked <= options.maxRows
      ? `the request's max_rows (${rows} rows)`
      : `${keyIn('query.max_rows', options.configFile)} (${rows} rows${asked === undefined ? '' : `; a request's max_rows can lower it, not raise it`})`;
  const checkToken = createTokenCheck(options.apiToken);
  app.register(async (scope) => {
    scope.addHook('onRequest', checkToken);
    // A gzip body was read as if plain, and answered "Unexpected token '\u001f'".
    scope.addHook(
      'preParsing',
      decodeContentEncoding(options.bodyLimit, () => bodyTooLarge('/api/query', options.bodyLimit)),
    );

    scope.post('/api/query', async (request, reply) => {
      refuseUnknownParameters(
        request.query,
        'POST /api/query',
        ['format'],
        'format (?format=csv); sql, max_rows and query_id go in the JSON body',
      );
      const { sql, maxRows, id } = parseQueryBody(request.body, options.configFile);
      const asked = (request.query as Record<string, unknown>).format ?? 'json';
      const format = typeof asked === 'string' ? asked.toLowerCase() : asked;
      if (format !== 'json' && format !== 'csv')
        throw new InletError('INVALID_FIELD', `format: must be json or csv, not ${JSON.stringify(asked)}`, {
          details: { field: 'format' },
        });
      // A client that goes away stops its query.
      const abort = new AbortController();
      reply.raw.on('close', () => {
        if (!reply.raw.writableFinished) abort.abort();
      });
      if (format === 'json')
        return sendQueryAnswer(
          reply,
          await engine.query(sql, {
            id,
            maxRows: rowLimit(maxRows),
            rowLimit: limitName(maxRows),
            maxBytes: JSON_ANSWER_BYTES,
            signal: abort.signal,
          }),
        );
      // An export holds every row unless the request's max_rows says fewer (query.max_rows is the
      // JSON answer's limit, not an export's): asked for 10, a client got the whole table.
      const wanted = maxRows ?? Number.POSITIVE_INFINITY;
      // A JSON value as its JSON text, as a CSV field writes it (see jsonText).
      return engine.stream(sql, { id, maxRows, signal: abort.signal, jsonText: true }, (stream) =>
        sendCsvExport(reply, stream, { wanted, id, logger: options.logger }),
      );
    });
  });
  // A DELETE's body means nothing (RFC 9110 §9.3.5), and is dropped unread, whatever its type or
  // encoding: one that was no JSON (a client's default body, {) was refused 400 or 415, and the query
  // ran on to its timeout, holding its slot.
  app.register(async (scope) => {
    scope.addHook('onRequest', checkToken);
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _body, done) => done(null, undefined));
    scope.delete('/api/query/:id', async (request, reply) => {
      if (dropUnreadBody(request.raw)) reply.header('Connection', 'close');
      const { id } = request.params as { id: string };
      if (!engine.cancel(id)) throw new InletError('NOT_FOUND', `No running query has id ${id}.`);
      return reply.code(202).send({ cancelled: id });
    });
  });
}
