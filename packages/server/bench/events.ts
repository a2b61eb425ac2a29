// The Segment track events the benchmarks send, so that bench:ingest and bench:intake measure the
// same events.
//
// Events differ as real traffic does (visitors, users, sessions, pages, titles, referrers, property
// values, a Segment SDK's context) since 2026-12-02 11:10 UTC; before, they differed only in their
// ids, which DuckDB held so compactly that the loader's memory and speed flattered real traffic.
// BENCH_ALIKE=1 sends those alike events again, to compare with figures from before that date.

/**
 * The page the events come from, sent as the requests' Origin: analytics.js runs in a browser, and
 * a message without context.userAgent takes the request's user agent only from a browser (since
 * 2026-12-04; without an Origin, the bench skipped user-agent parsing and flattered the figures).
 */
export const BENCH_ORIGIN = 'https://learn.example.com';

/** The i-th event; its messageId holds [<id>], which bench:ingest replaces with a new id a request. */
export function benchMessage(i: number, alike: boolean): Record<string, unknown> {
  if (alike)
    return {
      type: 'track',
      event: 'heartbeat',
      // Every request gets a new id in place of [<id>], so no event repeats an earlier one:
      // repeats would be deduplicated, and the loader would write almost nothing.
      messageId: `bench-[<id>]-${i}`,
      anonymousId: '5f0c8a1e-3b7d-4c1a-9f2e-7a6b5c4d3e2f',
      timestamp: new Date().toISOString(),
      properties: { content_id: 'intro-to-sql', position: 120, duration: 900, interval: 15 },
      context: { page: { url: 'https://learn.example.com/lectures/intro-to-sql?utm_source=news' } },
    };
  return {
    type: 'track',
    event: ['heartbeat', 'heartbeat', 'heartbeat', 'search', 'feature_used'][i % 5],
    messageId: `bench-[<id>]-${i}`,
    anonymousId: `anon-${(i * 7919) % 20_000}`,
    userId: i % 3 === 0 ? undefined : `user-${(i * 104_729) % 5_000}`,
    timestamp: new Date().toISOString(),
    properties: {
      content_id: `lecture-${(i * 31) % 400}`,
      position: (i * 15) % 3_600,
      duration: 3_600,
      interval: 15,
      ...(i % 5 === 3 ? { query: `query ${(i * 13) % 1_000}`, results: i % 4 } : {}),
    },
    context: {
      library: { name: 'analytics.js', version: 'npm:next-1.76.0' },
      page: {
        url: `https://learn.example.com/lectures/lecture-${(i * 31) % 400}?utm_source=news&utm_campaign=c${i % 12}`,
        title: `Lecture ${(i * 31) % 400}: working with data, part ${i % 7}`,
        referrer: `https://www.example.org/courses/${i % 50}`,
      },
      locale: ['en-US', 'ja-JP', 'de-DE'][i % 3],
      screen: { width: [1440, 1920, 390][i % 3], height: [900, 1080, 844][i % 3] },
      sessionId: `session-${(i * 7) % 9_000}`,
    },
  };
}
