/*---
materialized: incremental
description: >
  Site searches per day and query (lower-cased and trimmed), with how many found nothing.
  From search events with properties query and results.
owner: inlet (built-in)
columns:
  site: { description: "Site id.", tests: [not_null] }
  dt: { description: "Day in the configured time zone.", tests: [not_null] }
  query: { description: "The search text, lower-cased and trimmed.", tests: [not_null] }
  searches: Searches for this text.
  searchers: Distinct browsers or devices that searched for it.
  no_result_searches: Searches that found nothing (results = 0).
  avg_results: Average number of results.
tests:
  - unique: [site, dt, query]
  - name: no_more_failures_than_searches
    sql: SELECT * FROM {{ this }} WHERE no_result_searches > searches
---*/
SELECT
  site,
  local_dt AS dt,
  lower(trim(properties->>'query')) AS query,
  CAST(count(*) AS INTEGER) AS searches,
  CAST(count(DISTINCT anonymous_id) AS INTEGER) AS searchers,
  CAST(count(*) FILTER (WHERE TRY_CAST(properties->>'results' AS DOUBLE) = 0) AS INTEGER) AS no_result_searches,
  avg(TRY_CAST(properties->>'results' AS DOUBLE)) AS avg_results
FROM {{ ref('stg_events') }} AS e
WHERE e.type = 'track' AND e.name = 'search'
  AND nullif(trim(e.properties->>'query'), '') IS NOT NULL
  AND e.dt BETWEEN {{ from_dt }} - 1 AND {{ to_dt }} + 1
GROUP BY ALL
