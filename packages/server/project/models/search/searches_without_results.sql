/*---
materialized: view
description: Search texts that found nothing at least once, per site, most frequent first.
owner: inlet (built-in)
columns:
  site: Site id.
  query: The search text, lower-cased and trimmed.
  no_result_searches: Searches for it that found nothing.
  searches: All searches for it.
  last_no_result_dt: Last day a search for it found nothing.
---*/
SELECT
  site,
  query,
  CAST(sum(no_result_searches) AS INTEGER) AS no_result_searches,
  CAST(sum(searches) AS INTEGER) AS searches,
  max(dt) FILTER (WHERE no_result_searches > 0) AS last_no_result_dt
FROM {{ ref('site_searches_daily') }}
GROUP BY site, query
HAVING sum(no_result_searches) > 0
ORDER BY no_result_searches DESC, query
