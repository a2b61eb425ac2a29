/*---
materialized: table
description: Active users and visitors per site and calendar month (configured time zone).
owner: inlet (built-in)
columns:
  site: { description: "Site id.", tests: [not_null] }
  month_start: { description: "First day of the month.", tests: [not_null] }
  users: Signed-in users (distinct user_id) active that month.
  visitors: Browsers or devices (distinct anonymous_id) active that month.
tests:
  - unique: [site, month_start]
---*/
SELECT
  site,
  CAST(date_trunc('month', local_dt) AS DATE) AS month_start,
  CAST(count(DISTINCT user_id) AS INTEGER) AS users,
  CAST(count(DISTINCT anonymous_id) AS INTEGER) AS visitors
FROM {{ ref('stg_events') }}
GROUP BY ALL
