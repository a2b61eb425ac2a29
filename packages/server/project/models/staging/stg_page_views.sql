/*---
materialized: view
description: >
  Page views with a session key: the tracker's session id when it sent one, otherwise a new
  session after 30 minutes without a page view from the same browser (anonymous_id).
owner: inlet (built-in)
columns:
  session_key: The session the page view belongs to.
---*/
WITH pages AS (
  SELECT
    site, event_id, ts, local_ts, local_dt, dt, anonymous_id, user_id, session_id, path, title,
    referrer, utm_source, utm_medium, utm_campaign,
    CASE
      WHEN lag(ts) OVER (PARTITION BY site, anonymous_id ORDER BY ts, event_id) IS NULL THEN 1
      WHEN ts - lag(ts) OVER (PARTITION BY site, anonymous_id ORDER BY ts, event_id) > INTERVAL 30 MINUTE THEN 1
      ELSE 0
    END AS starts_session
  FROM {{ ref('stg_events') }}
  WHERE type = 'page'
)
SELECT
  * EXCLUDE (starts_session),
  coalesce(
    session_id,
    anonymous_id || ':' || sum(starts_session) OVER (PARTITION BY site, anonymous_id ORDER BY ts, event_id ROWS UNBOUNDED PRECEDING)
  ) AS session_key
FROM pages
