/**
 * Token buckets keyed by client IP or write key; a rate of 0 turns the limit off. The limiter says
 * whether a request passes; its retryAfter, after a refusal, how long the client should wait.
 */
export function createRateLimiter(perSecond: number, now: () => number = Date.now) {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const limit = (key: string, cost = 1): boolean => {
    if (perSecond === 0) return true;
    const t = now();
    let bucket = buckets.get(key);
    if (!bucket) {
      // Bounded memory under many distinct clients: forget everyone idle, the refill rule recreates them full.
      if (buckets.size >= 100_000) buckets.clear();
      bucket = { tokens: perSecond, at: t };
      buckets.set(key, bucket);
    }
    bucket.tokens = Math.min(perSecond, bucket.tokens + ((t - bucket.at) / 1000) * perSecond);
    bucket.at = t;
    // A request costing more than the whole bucket passes once the bucket is full and leaves it in
    // debt: refused, it could never pass, and its client would retry it forever.
    if (bucket.tokens < Math.min(cost, perSecond)) return false;
    bucket.tokens -= cost;
    return true;
  };
  /**
   * Whole seconds, at least 1, until a request of cost could pass for key: after a large batch left
   * the bucket in debt, that is more than a second, and a client that waited the 1 it was told was
   * refused again and again until the debt was paid, each retry counted as refused events.
   */
  const retryAfter = (key: string, cost = 1): number => {
    const bucket = buckets.get(key);
    if (!bucket || perSecond === 0) return 1;
    const missing = Math.min(cost, perSecond) - bucket.tokens - ((now() - bucket.at) / 1000) * perSecond;
    return Math.max(1, Math.ceil(missing / perSecond));
  };
  return Object.assign(limit, { retryAfter });
}

/**
 * The key of a client address for a per-address limit: an IPv6 address by its /64, the block one
 * host (or one network) is given, whose 2^64 addresses a client can rotate through at will: keyed by
 * the whole address, each request from a new one found a full bucket, and limits.per_ip_per_second
 * held no IPv6 client back. An IPv4 address, also one mapped into IPv6 (::ffff:203.0.113.7), is
 * its own key.
 */
export function addressKey(address: string): string {
  if (!address.includes(':')) return address;
  const ip = address.replace(/%.*$/, '').toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(ip);
  if (mapped) return mapped[1] as string;
  const [head = '', tail] = ip.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups =
    tail === undefined
      ? left
      : [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((group) => (Number.parseInt(group, 16) || 0).toString(16))
    .join(':')}::/64`;
}
