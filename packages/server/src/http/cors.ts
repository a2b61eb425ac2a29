import type { IncomingMessage } from 'node:http';

// What a CORS preflight answers, for the collector's routes and the SDKs' settings.

/** A comma-separated list of header names, as a browser's Access-Control-Request-Headers holds. */
const HEADER_LIST = /^[\w!#$%&'*+.^`|~-]+(?:\s*,\s*[\w!#$%&'*+.^`|~-]+)*$/;

/** The headers the SDKs inlet speaks send, for a preflight whose list is missing or malformed. */
const KNOWN_HEADERS = 'Content-Type, Authorization, Content-Encoding, AnonymousId, x-umami-cache';

/**
 * The headers of a preflight's answer. It allows the request headers the browser asks for: SDKs
 * add their own (RudderStack's AnonymousId, Umami's x-umami-cache), and a header refused here
 * loses every event such an SDK sends. Write keys are public and inlet reads no cookies, so a
 * header allowed gives a page nothing it could not send otherwise.
 */
export function preflightHeaders(request: IncomingMessage, methods: string): Record<string, string> {
  const requested = request.headers['access-control-request-headers'];
  return {
    'Access-Control-Allow-Methods': methods,
    'Access-Control-Allow-Headers':
      requested && requested.length <= 1000 && HEADER_LIST.test(requested) ? requested : KNOWN_HEADERS,
    'Access-Control-Max-Age': '86400',
    Vary: 'Access-Control-Request-Headers',
  };
}
