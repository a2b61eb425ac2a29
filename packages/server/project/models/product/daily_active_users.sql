/*---
materialized: incremental
description: >
  Active users and visitors per site and day (in the configured time zone). A user is a
  signed-in user_id; a visitor is a browser or device (anonymous_id). Bots are left out.
owner: inlet (built-in)
columns:
  site: { description: "Site id.", tests: [not_null] }
  dt: { description: "Day in the configured time zone.", tests: [not_null] }
  users: Signed-in users (distinct user_id) active that day.
  visitors: Browsers or devices (distinct anonymous_id) active that day.
  events: Events that day.
tests:
  - unique: [site, dt]
---*/
SELECT
  site,
  local_dt AS dt,
  CAST(count(DISTINCT user_id) AS INTEGER) AS users,
  CAST(count(DISTINCT anonymous_id) AS INTEGER) AS visitors,
  CAST(count(*) AS INTEGER) AS events
FROM {{ ref('stg_events') }} AS e
-- The lake is partitioned by UTC day; one day either side covers every local day in the window.
WHERE e.dt BETWEEN {{ from_dt }} - 1 AND {{ to_dt }} + 1
GROUP BY ALL
