/**
 * Removes a connection URL and its password from a message before it reaches a log, an error or an
 * API response. Drivers sometimes echo what they were given, so every message from them goes
 * through here.
 */
export function redactSecrets(message: string, url: string): string {
  const secrets = new Set<string>([url]);
  try {
    const parsed = new URL(url);
    if (parsed.password) {
      secrets.add(parsed.password);
      secrets.add(decodeURIComponent(parsed.password));
    }
  } catch {
    // Not a URL: the whole string is still removed.
  }
  let out = message;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length))
    if (secret.length >= 3) out = out.split(secret).join('***');
  return out;
}

/** The URL with its password replaced, for messages that should say which server was meant. */
export function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.username ? `${parsed.username}@` : ''}${parsed.host}${parsed.pathname}`;
  } catch {
    return '(the configured url)';
  }
}

/**
 * What to do about a URL the driver could not parse: a password (or user name) holding `#`, `/`,
 * `?`, `@` or `%` as it is, which a connection URL must percent-encode. `new URL` says only
 * "Invalid URL" and `decodeURIComponent` "URI malformed", which name neither the part nor the fix.
 */
export function urlSyntaxHint(error: unknown): string | undefined {
  const invalidUrl = error instanceof TypeError && (error as { code?: unknown }).code === 'ERR_INVALID_URL';
  if (!invalidUrl && !(error instanceof URIError)) return undefined;
  return (
    'the url is not a valid URL. A user name or password holding any of @ : / ? # % or a space must ' +
    'have them percent-encoded (@ as %40, : as %3A, / as %2F, ? as %3F, # as %23, % as %25, a space as %20; ' +
    "JavaScript's encodeURIComponent and Python's urllib.parse.quote(…, safe='') do it)"
  );
}

/** The message of anything thrown, with the secrets of url removed. */
export function safeMessage(error: unknown, url: string): string {
  const message = error instanceof Error ? error.message : String(error);
  return redactSecrets(message || String((error as { code?: unknown })?.code ?? 'unknown error'), url);
}
