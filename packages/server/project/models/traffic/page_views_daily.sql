/*---
materialized: incremental
description: Page views per site, day and path.
owner: inlet (built-in)
columns:
  site: { description: "Site id.", tests: [not_null] }
  dt: { description: "Day in the configured time zone.", tests: [not_null] }
  path: URL path of the page (without query string).
  title: A title the page had that day.
  page_views: Page view events.
  visitors: Distinct browsers or devices.
  users: Distinct signed-in users.
tests:
  - unique: [site, dt, path]
---*/
SELECT
  site,
  local_dt AS dt,
  path,
  max(title) AS title,
  CAST(count(*) AS INTEGER) AS page_views,
  CAST(count(DISTINCT anonymous_id) AS INTEGER) AS visitors,
  CAST(count(DISTINCT user_id) AS INTEGER) AS users
FROM {{ ref('stg_events') }} AS e
WHERE e.type = 'page' AND e.dt BETWEEN {{ from_dt }} - 1 AND {{ to_dt }} + 1
GROUP BY ALL
