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

/** The message of anything thrown, with the secrets of url removed. */
export function safeMessage(error: unknown, url: string): string {
  const message = error instanceof Error ? error.message : String(error);
  return redactSecrets(message || String((error as { code?: unknown })?.code ?? 'unknown error'), url);
}
