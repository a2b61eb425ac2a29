/** A 1×1 transparent GIF: the answer to GET /p.gif, a refusal's too. */
export const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

/**
 * A message as a header value: the UTF-8 bytes a header cannot carry (non-ASCII, control characters)
 * and % are percent-encoded, as a message may quote what the client sent; decodeURIComponent reads it.
 */
function headerText(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text.slice(0, 1000))) {
    out +=
      byte >= 0x20 && byte <= 0x7e && byte !== 0x25
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * The headers of a refused pixel view. An <img> in a page or an e-mail shows a JSON body as a broken
 * image; browsers draw an image body whatever the status, so the refusal is the pixel itself and the
 * reason is in headers.
 */
export function pixelErrorHeaders(error: { code: string; message: string }): Record<string, string> {
  return {
    'X-Inlet-Error': error.code,
    'X-Inlet-Error-Message': headerText(error.message),
    'Cache-Control': 'no-store',
  };
}
