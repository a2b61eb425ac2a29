/*---
materialized: table
description: Viewers, minutes watched and completion per content item (from heartbeats).
owner: inlet (built-in)
columns:
  site: { description: "Site id.", tests: [not_null] }
  kind: media or page.
  content_id: { description: "The content item.", tests: [not_null] }
  viewers: Distinct viewers.
  minutes_watched: Minutes watched (or read) by all viewers.
  completed_viewers: Viewers who reached the end.
  completion_rate: completed_viewers / viewers.
  avg_completion: Average share of the item each viewer reached.
tests:
  - unique: [site, kind, content_id]
---*/
SELECT
  site,
  kind,
  content_id,
  CAST(count(*) AS INTEGER) AS viewers,
  round(sum(seconds_watched) / 60, 2) AS minutes_watched,
  CAST(count(*) FILTER (WHERE completed) AS INTEGER) AS completed_viewers,
  round(count(*) FILTER (WHERE completed) / count(*), 4) AS completion_rate,
  round(avg(completion), 4) AS avg_completion
FROM {{ ref('viewing_by_user_content') }}
GROUP BY site, kind, content_id
