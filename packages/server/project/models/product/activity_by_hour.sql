/*---
materialized: table
description: >
  Activity per site by weekday and hour of the day in the configured time zone, for a
  heatmap. Heartbeats are left out so that watching a video does not drown the rest.
owner: inlet (built-in)
columns:
  site: { description: "Site id.", tests: [not_null] }
  weekday: { description: "ISO weekday, 1 = Monday … 7 = Sunday.", tests: [not_null, {accepted_values: {values: [1, 2, 3, 4, 5, 6, 7]}}] }
  weekday_name: Monday … Sunday.
  hour: { description: "Hour of the day, 0–23.", tests: [not_null] }
  events: Events other than heartbeats.
  visitors: Distinct browsers or devices.
  users: Distinct signed-in users.
tests:
  - unique: [site, weekday, hour]
---*/
SELECT
  site,
  isodow(local_ts) AS weekday,
  dayname(local_ts) AS weekday_name,
  hour(local_ts) AS hour,
  CAST(count(*) AS INTEGER) AS events,
  CAST(count(DISTINCT anonymous_id) AS INTEGER) AS visitors,
  CAST(count(DISTINCT user_id) AS INTEGER) AS users
FROM {{ ref('stg_events') }}
WHERE name IS DISTINCT FROM 'heartbeat'
GROUP BY ALL
