/*---
materialized: incremental
description: Visitors and page views per site and day by device type, browser and operating system.
owner: inlet (built-in)
columns:
  site: { description: "Site id.", tests: [not_null] }
  dt: { description: "Day in the configured time zone.", tests: [not_null] }
  device_type: desktop, mobile, tablet…
  browser: Browser family from the user agent; (unknown) when it could not be told.
  os: Operating system from the user agent; (unknown) when it could not be told.
  visitors: Distinct browsers or devices.
  users: Distinct signed-in users.
  page_views: Page view events.
tests:
  - unique: [site, dt, device_type, browser, os]
---*/
SELECT
  site,
  local_dt AS dt,
  coalesce(device_type, '(unknown)') AS device_type,
  coalesce(browser, '(unknown)') AS browser,
  coalesce(os, '(unknown)') AS os,
  CAST(count(DISTINCT anonymous_id) AS INTEGER) AS visitors,
  CAST(count(DISTINCT user_id) AS INTEGER) AS users,
  CAST(count(*) FILTER (WHERE type = 'page') AS INTEGER) AS page_views
FROM {{ ref('stg_events') }} AS e
WHERE e.dt BETWEEN {{ from_dt }} - 1 AND {{ to_dt }} + 1
GROUP BY ALL
