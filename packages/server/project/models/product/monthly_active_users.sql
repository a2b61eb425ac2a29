/*---
materialized: incremental
unique_key: [site, month_start]
description: >
  Active users and visitors per site and calendar month (configured time zone). Each run
  recomputes the latest month it has and any newer ones, so months whose raw events retention
  deleted are kept.
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
FROM {{ ref('stg_events') }} AS e
{% if is_incremental %}
WHERE e.dt >= (SELECT max(month_start) FROM {{ this }}) - 1
  AND e.local_dt >= (SELECT max(month_start) FROM {{ this }})
{% endif %}
GROUP BY ALL
