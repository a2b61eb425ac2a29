// The write key in HTTP Basic credentials, as Segment's SDKs and log shippers send it: the
// collector's routes, the SDKs' settings and POST /logs read it here.

/** The HTTP Basic user name, which Segment's SDKs use for the write key. */
export function basicUser(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  // A collector sees the same few write keys over and over.
  if (header === lastBasic.header) return lastBasic.user;
  // Schemes are case-insensitive (RFC 9110 §11.1), as POST /logs reads them: "basic …", which curl
  // users write, was answered "No write key".
  if (!header.startsWith('Basic ') && header.slice(0, 6).toLowerCase() !== 'basic ') return undefined;
  lastBasic = { header, user: basicCredentialsUser(Buffer.from(header.slice(6), 'base64').toString('utf8')) };
  return lastBasic.user;
}

/**
 * The user name of decoded HTTP Basic credentials ("user:password"). Segment's SDKs send the write key
 * as the user with an empty password ("<key>:"), so there the user is all before the last colon: a
 * key that holds one (wk:docs) was cut at its first and answered 401. Else the user ends at the
 * first colon, as RFC 7617 has it (Fluent Bit's http_User and http_Passwd).
 */
export function basicCredentialsUser(decoded: string): string {
  const colon = decoded.endsWith(':') ? decoded.length - 1 : decoded.indexOf(':');
  return colon === -1 ? decoded : decoded.slice(0, colon);
}
let lastBasic = { header: '', user: '' };
