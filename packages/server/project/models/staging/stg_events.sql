/*---
materialized: view
description: >
  Every event that is not from a bot, with its time in the configured time zone. The other
  built-in marts read this view rather than events.
owner: inlet (built-in)
columns:
  local_ts: Event time in the configured time zone (a TIMESTAMP without zone).
  local_dt: Calendar day of the event in the configured time zone.
---*/
SELECT
  *,
  timezone({{ timezone }}, ts) AS local_ts,
  CAST(timezone({{ timezone }}, ts) AS DATE) AS local_dt
FROM events
WHERE NOT coalesce(is_bot, false)
