/** How far ahead of its arrival an event's (or log record's) time may be. */
const FUTURE_LIMIT_MS = 24 * 3_600_000;

/**
 * The times an event or a log record received over HTTP is filed at: its own, unless that is more
 * than a day ahead of its arrival (a broken client clock, PostHog's rule) or further back than
 * max_event_age_days (the site's own wins over limits'), where the arrival is taken instead, so that
 * no sender can file under days not yet come or spread a few requests over thousands of daily
 * partitions. Before 1970 is no time either.
 */
export function createTimeBounds(options: {
  /** limits.max_event_age_days: 0 or absent keeps any past time. */
  maxEventAgeDays?: number;
  /** Sites with a max_event_age_days of their own, which wins over the global one. */
  sites?: ReadonlyArray<{ id: string; max_event_age_days?: number | undefined }>;
}): (site: string, ts: number, receivedAt: number) => number {
  const globalMaxAgeMs = (options.maxEventAgeDays ?? 0) * 86_400_000;
  const siteMaxAgeMs = new Map(
    (options.sites ?? []).flatMap((s) =>
      s.max_event_age_days === undefined ? [] : [[s.id, s.max_event_age_days * 86_400_000] as const],
    ),
  );
  return (site, ts, receivedAt) => {
    if (ts > receivedAt + FUTURE_LIMIT_MS) return receivedAt;
    const maxAgeMs = siteMaxAgeMs.size === 0 ? globalMaxAgeMs : (siteMaxAgeMs.get(site) ?? globalMaxAgeMs);
    return ts < 0 || (maxAgeMs > 0 && ts < receivedAt - maxAgeMs) ? receivedAt : ts;
  };
}
