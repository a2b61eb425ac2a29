/**
 * An X-Forwarded-For entry without the port some proxies append to it (Azure Application Gateway,
 * IIS ARR): 203.0.113.7:50123, [2001:db8::1]:443. Taken with it, each connection a visitor opened
 * (a new source port) was a new visitor_hash, and a new key for the per-IP rate limit.
 */
function withoutPort(entry: string): string {
  if (entry.startsWith('[')) {
    const end = entry.indexOf(']');
    return end === -1 ? entry : entry.slice(1, end);
  }
  // One colon is an IPv4 address and its port; an IPv6 address without brackets has several.
  const colon = entry.indexOf(':');
  return colon !== -1 && colon === entry.lastIndexOf(':') ? entry.slice(0, colon) : entry;
}

/**
 * The client address in X-Forwarded-For behind `proxies` proxies that each append the address they
 * saw: that many entries from the right. Entries further left came from the client and are not taken.
 */
export function forwardedClient(header: string | string[] | undefined, proxies: number): string | undefined {
  if (header === undefined) return undefined;
  const entries = (Array.isArray(header) ? header.join(',') : header)
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  const entry = entries[Math.max(0, entries.length - proxies)];
  return entry === undefined ? undefined : withoutPort(entry);
}
