import type { IncomingMessage } from 'node:http';
import { checkPixelEscapes, type Intake, parsePixel, parsePlausible, parseUmami } from '../collect/index.ts';
import type { EventType } from '../events/index.ts';
import type { IntakeAcceptor } from './intake-acceptor.ts';
import { readBody, readJson } from './intake-body.ts';
import { PIXEL } from './pixel-image.ts';

const SUCCESS = Buffer.from('{"success":true}');
const EMPTY_OBJECT = Buffer.from('{}');

/** What a collector route answers: its status, body, Content-Type and other headers. */
export type Answer = {
  status: number;
  body?: Buffer | string;
  type?: string;
  headers?: Record<string, string>;
};
/** A collector route; url is the request's address when it has a query string, or is a GET. */
export type Route = {
  method: 'GET' | 'POST';
  handle: (request: IncomingMessage, url: URL | undefined) => Promise<Answer>;
  /**
   * The answer to HEAD on a GET route: the GET answer's headers (Node sends no body), or the refusal
   * GET would get, with nothing recorded.
   */
  head?: (request: IncomingMessage, url: URL | undefined) => Promise<Answer>;
  /** The route is an image: a refusal is the same image with the error's status, not JSON. */
  image?: true;
};

/**
 * The pixel's query parameters. An e-mail template that escapes its HTML twice sends &amp;n=open,
 * whose key reads as "amp;n": the event was filed as a nameless page view, so amp; is dropped.
 * A key given twice is taken the first time, as searchParams.get takes the beacon's writeKey: the
 * pixel took the last, so one URL with two write keys went to one site there and another here.
 */
function pixelQuery(url: URL | undefined): Record<string, string> {
  // No prototype: a key such as __proto__ is then a plain key, as in Object.fromEntries.
  const query: Record<string, string> = Object.create(null);
  if (url) checkPixelEscapes(url.search);
  for (const [key, value] of url?.searchParams ?? []) {
    const name = key.startsWith('amp;') ? key.slice(4) : key;
    if (!(name in query)) query[name] = value;
  }
  return query;
}

// Segment's tracking API under /v1/: the HTTP API's names, and the one-letter names analytics.js
// (Segment's browser SDK) posts to, one event a request, or /v1/b with its batching delivery.
// /v1/import is the batch's older name, where Segment's Ruby and Java SDKs still post.
const SEGMENT_ROUTES: Array<[string[], EventType | undefined]> = [
  [['batch', 'b', 'import'], undefined],
  [['track', 't'], 'track'],
  [['page', 'p'], 'page'],
  [['identify', 'i'], 'identify'],
  [['screen', 's'], 'screen'],
  [['group', 'g'], 'group'],
  [['alias', 'a'], 'alias'],
];

/**
 * The collector's routes by path: Segment's tracking API, RudderStack's beacon, inlet's compact
 * batch, the pixel, Plausible's and Umami's endpoints.
 */
export function createIntakeRoutes(options: {
  intake: Intake;
  acceptor: IntakeAcceptor;
  limit: number;
}): Map<string, Route> {
  const { intake, acceptor, limit } = options;
  const { metaOf, requestWriteKey, accept, acceptBody } = acceptor;
  const routes = new Map<string, Route>();
  for (const [names, type] of SEGMENT_ROUTES) {
    const route: Route = {
      method: 'POST',
      handle: async (request) => {
        await acceptBody(request, await readBody(request, limit), 'segment', type);
        return { status: 200, body: SUCCESS, type: 'application/json; charset=utf-8' };
      },
    };
    for (const name of names) routes.set(`/v1/${name}`, route);
  }
  // RudderStack's browser SDK with useBeacon: a Segment batch by navigator.sendBeacon, which can send
  // no Authorization header, so the write key comes in the query.
  routes.set('/beacon/v1/batch', {
    method: 'POST',
    handle: async (request, url) => {
      const writeKey = url?.searchParams.get('writeKey') ?? undefined;
      await acceptBody(request, await readBody(request, limit), 'segment', undefined, writeKey);
      return { status: 200, body: SUCCESS, type: 'application/json; charset=utf-8' };
    },
  });
  // The write key in the body (k), or in the query (/collect?k=…) as the pixel takes it: there, it
  // was refused as "No write key: send it … or as k".
  routes.set('/collect', {
    method: 'POST',
    handle: async (request, url) => {
      const writeKey = url?.searchParams.get('k') || undefined;
      await acceptBody(request, await readBody(request, limit), 'inlet', undefined, writeKey);
      return { status: 204 };
    },
  });
  const pixel: Answer = {
    status: 200,
    body: PIXEL,
    type: 'image/gif',
    headers: { 'Cache-Control': 'no-store' },
  };
  routes.set('/p.gif', {
    method: 'GET',
    handle: async (request, url) => {
      await accept(request, parsePixel(pixelQuery(url), request.headers.referer));
      return pixel;
    },
    // Link checkers and mail clients' image proxies may ask with HEAD first; that is no view. It
    // gets what GET would (a 401 for an unknown key), so curl -I checks a pixel URL.
    head: async (request, url) => {
      const parsed = parsePixel(pixelQuery(url), request.headers.referer);
      intake.check(parsed, metaOf(request), requestWriteKey(request, undefined));
      return pixel;
    },
    image: true,
  });
  routes.set('/api/event', {
    method: 'POST',
    handle: async (request) => {
      const parsed = parsePlausible(await readJson(request, limit));
      const context = parsed.events[0]?.context ?? {};
      const domains = Array.isArray(context.domains)
        ? (context.domains as string[])
        : [String(context.domain)];
      await intake.acceptByDomain(parsed, metaOf(request), domains);
      return { status: 202, body: 'ok', type: 'text/plain; charset=utf-8' };
    },
  });
  routes.set('/api/send', {
    method: 'POST',
    handle: async (request) => {
      await accept(request, parseUmami(await readJson(request, limit)));
      return { status: 200, body: EMPTY_OBJECT, type: 'application/json; charset=utf-8' };
    },
  });
  return routes;
}
