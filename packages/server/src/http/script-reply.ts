import { gzipSync } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { InletError } from '../errors/index.ts';
import { pixelErrorHeaders } from './pixel-image.ts';

// The scripts the collector serves to pages (inlet's tracker, Segment's analytics.js and its chunks),
// gzipped for the browsers that take gzip: sent as they were, the tracker cost every page view 8.7 KB
// where its budget counts 4 KB gzipped, and analytics.js 114 KB where gzipped it is 31 KB.

/** A script's bytes as they are, and gzipped once, when first read. */
export interface Script {
  code: Buffer;
  gzipped: Buffer;
}

/** A script of these bytes. */
export const script = (code: Buffer): Script => ({ code, gzipped: gzipSync(code, { level: 9 }) });

/** Whether an Accept-Encoding takes gzip: named (or *) with a weight above 0. */
export function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  let any = false;
  for (const part of header.toLowerCase().split(',')) {
    const [name, ...params] = part.split(';').map((piece) => piece.trim());
    const q = params.find((param) => param.startsWith('q='));
    const weighted = q === undefined || Number(q.slice(2)) > 0;
    if (name === 'gzip' || name === 'x-gzip') return weighted;
    if (name === '*') any = weighted;
  }
  return any;
}

/** Sends a script any page may load, gzipped when the browser takes it; `cache` is its Cache-Control. */
export function sendScript(
  request: FastifyRequest,
  reply: FastifyReply,
  { code, gzipped }: Script,
  cache: string,
) {
  reply
    .type('text/javascript; charset=utf-8')
    .header('Cache-Control', cache)
    .header('Access-Control-Allow-Origin', '*')
    .header('Vary', 'Accept-Encoding');
  if (!acceptsGzip(request.headers['accept-encoding'])) return reply.send(code);
  return reply.header('Content-Encoding', 'gzip').send(gzipped);
}

/**
 * Refuses a script a page loads with a <script> tag, which runs only an answer with a 2xx status and
 * shows nothing of an error's body: the refusal is a 200 whose script writes `said` to the browser's
 * console, with the code and message in X-Inlet-Error headers, as the pixel's refusals are. A client
 * that asks for JSON (Accept: application/json) is answered with the error as any other route is.
 */
export function sendScriptRefusal(
  request: FastifyRequest,
  reply: FastifyReply,
  error: InletError,
  said: string,
) {
  if (request.headers.accept?.includes('application/json')) throw error;
  reply.headers(pixelErrorHeaders(error));
  return sendScript(
    request,
    reply,
    script(Buffer.from(`console.error(${JSON.stringify(said)});\n`)),
    'no-store',
  );
}
