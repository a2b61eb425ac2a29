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
