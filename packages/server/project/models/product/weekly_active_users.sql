/*---
materialized: incremental
unique_key: [site, week_start]
description: >
  Active users and visitors per site and calendar week (Monday to Sunday, configured time zone).
  Each run recomputes the latest week it has and any newer ones.
owner: inlet (built-in)
columns:
  site: { description: "Site id.", tests: [not_null] }
  week_start: { description: "Monday that starts the week.", tests: [not_null] }
  users: Signed-in users (distinct user_id) active that week.
  visitors: Browsers or devices (distinct anonymous_id) active that week.
tests:
  - unique: [site, week_start]
---*/
SELECT
  site,
  CAST(date_trunc('week', local_dt) AS DATE) AS week_start,
  CAST(count(DISTINCT user_id) AS INTEGER) AS users,
  CAST(count(DISTINCT anonymous_id) AS INTEGER) AS visitors
FROM {{ ref('stg_events') }} AS e
{% if is_incremental %}
WHERE e.dt >= (SELECT max(week_start) FROM {{ this }}) - 1
  AND e.local_dt >= (SELECT max(week_start) FROM {{ this }})
{% endif %}
GROUP BY ALL
