/*---
materialized: table
description: Items viewed, minutes watched and completion per viewer (from heartbeats).
owner: inlet (built-in)
columns:
  site: { description: "Site id.", tests: [not_null] }
  kind: media or page.
  viewer: { description: "user_id, or anonymous_id when not signed in.", tests: [not_null] }
  user_id: The signed-in user, when known.
  items_viewed: Distinct content items.
  minutes_watched: Minutes watched (or read).
  items_completed: Items reached to the end.
  completion_rate: items_completed / items_viewed.
tests:
  - unique: [site, kind, viewer]
---*/
SELECT
  site,
  kind,
  viewer,
  max(user_id) AS user_id,
  CAST(count(*) AS INTEGER) AS items_viewed,
  round(sum(seconds_watched) / 60, 2) AS minutes_watched,
  CAST(count(*) FILTER (WHERE completed) AS INTEGER) AS items_completed,
  round(count(*) FILTER (WHERE completed) / count(*), 4) AS completion_rate
FROM {{ ref('viewing_by_user_content') }}
GROUP BY site, kind, viewer
