import { Readable } from 'node:stream';
import type { Json } from '@duckdb/node-api';
import type { FastifyReply } from 'fastify';
import type { QueryResult } from '../engine/index.ts';
import { jsonText } from './json-text.ts';

/** Rows serialized per piece of a streamed answer: large enough that the stream's cost is noise. */
const ROWS_PER_PIECE = 1000;

const WRITTEN: Json[] = [];

/** Answers up to this size are sent whole, with a Content-Length, as any other JSON answer. */
const WHOLE_ANSWER_BYTES = 1024 * 1024;

/**
 * A query's answer as JSON text in pieces, the same text jsonText(result) gives. Each row is
 * let go once written, so its memory can be reclaimed while the rest is sent.
 */
function* answerPieces(result: QueryResult): Generator<string> {
  yield `{"columns":${JSON.stringify(result.columns)},"rows":[`;
  const { rows } = result;
  for (let start = 0; start < rows.length; start += ROWS_PER_PIECE) {
    const end = Math.min(start + ROWS_PER_PIECE, rows.length);
    // One stringify of the piece's rows, without its brackets: as fast as one of the whole answer.
    const piece = jsonText(rows.slice(start, end));
    rows.fill(WRITTEN, start, end);
    yield `${start === 0 ? '' : ','}${piece.slice(1, -1)}`;
  }
  yield `],"stats":${JSON.stringify(result.stats)}}`;
}

/**
 * Sends a query's answer. One JSON string of a 100 MB answer, and the buffer Node made of it, held
 * about three times the answer at once (peak RSS ~790 MB); a large answer is streamed in pieces
 * instead, and a small one sent whole as before.
 */
export function sendQueryAnswer(reply: FastifyReply, result: QueryResult) {
  const pieces = answerPieces(result);
  const head: string[] = [];
  let size = 0;
  for (let next = pieces.next(); !next.done; next = pieces.next()) {
    head.push(next.value);
    size += next.value.length;
    if (size > WHOLE_ANSWER_BYTES) {
      reply.header('Content-Type', 'application/json; charset=utf-8');
      return reply.send(
        Readable.from(
          (function* () {
            yield* head;
            yield* pieces;
          })(),
        ),
      );
    }
  }
  reply.header('Content-Type', 'application/json; charset=utf-8');
  return reply.send(head.join(''));
}
