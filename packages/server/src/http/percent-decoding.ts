// A path's percent-encoded unreserved characters (letters, digits, - . _ ~) mean what the characters
// themselves do (RFC 3986 §6.2.2.2), and nginx and Fastify's router decode them before matching a
// route: Fastify's routes served GET /%68ealthz while the collector's answered POST /v1/%62atch 404.

const ENCODED = /%[0-9A-Fa-f]{2}/g;
const UNRESERVED = /^[A-Za-z0-9._~-]$/;

/** The path with each percent-encoded unreserved character decoded; any other escape (%2F, %20) kept. */
export function decodeUnreserved(path: string): string {
  if (!path.includes('%')) return path;
  return path.replace(ENCODED, (encoded) => {
    const character = String.fromCharCode(Number.parseInt(encoded.slice(1), 16));
    return UNRESERVED.test(character) ? character : encoded;
  });
}
