/*---
materialized: table
description: >
  Viewing per viewer and content item from heartbeats: each heartbeat stands for its `seconds`
  watched (media) or read (page), the last unfinished interval included; heartbeats from
  trackers before `seconds` existed stand for their `interval`. A viewer is the user_id, or the anonymous_id before
  sign-in. Completed means the media_ended event, or a position of at least 90% of the duration.
owner: inlet (built-in)
columns:
  site: { description: "Site id.", tests: [not_null] }
  kind: { description: "media (video, audio) or page (reading time).", tests: [not_null] }
  content_id: { description: "The content item; the page path for page heartbeats.", tests: [not_null] }
  viewer: { description: "user_id, or anonymous_id when not signed in.", tests: [not_null] }
  user_id: The signed-in user, when known.
  seconds_watched: Sum of the heartbeats' seconds (their interval when they carry none).
  max_position: Furthest position reached, in seconds.
  duration: Length of the item in seconds, when known.
  completion: max_position / duration, at most 1.
  completed: Reached the end (media_ended, or 90% of the duration).
  first_viewed_at: First event for this item.
  last_viewed_at: Last event for this item.
tests:
  - unique: [site, kind, content_id, viewer]
---*/
WITH media AS (
  SELECT
    site,
    coalesce(properties->>'kind', 'media') AS kind,
    coalesce(properties->>'content_id', path) AS content_id,
    coalesce(user_id, anonymous_id) AS viewer,
    user_id,
    name,
    ts,
    TRY_CAST(properties->>'position' AS DOUBLE) AS position,
    TRY_CAST(properties->>'duration' AS DOUBLE) AS duration,
    coalesce(TRY_CAST(properties->>'seconds' AS DOUBLE), TRY_CAST(properties->>'interval' AS DOUBLE)) AS seconds
  FROM {{ ref('stg_events') }}
  WHERE type = 'track' AND name IN ('heartbeat', 'media_play', 'media_pause', 'media_ended')
)
SELECT
  site,
  kind,
  content_id,
  viewer,
  max(user_id) AS user_id,
  coalesce(sum(seconds) FILTER (WHERE name = 'heartbeat'), 0) AS seconds_watched,
  max(position) AS max_position,
  max(duration) AS duration,
  -- least() skips NULLs, so an unknown position or duration must stay NULL explicitly.
  CASE WHEN max(duration) > 0 AND max(position) IS NOT NULL THEN least(max(position) / max(duration), 1) END AS completion,
  bool_or(name = 'media_ended') OR coalesce(max(position) / nullif(max(duration), 0) >= 0.9, false) AS completed,
  min(ts) AS first_viewed_at,
  max(ts) AS last_viewed_at
FROM media
WHERE content_id IS NOT NULL AND viewer IS NOT NULL
GROUP BY site, kind, content_id, viewer
