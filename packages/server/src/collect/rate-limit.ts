/** Token buckets keyed by client IP or write key; a rate of 0 turns the limit off. */
export function createRateLimiter(perSecond: number, now: () => number = Date.now) {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return (key: string, cost = 1): boolean => {
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
}
