/*---
materialized: incremental
description: >
  Use of each feature per site and day: every track event counts as the feature it names,
  except inlet's reserved events (login, search, heartbeat, media_play, media_pause, media_ended).
owner: inlet (built-in)
columns:
  site: { description: "Site id.", tests: [not_null] }
  dt: { description: "Day in the configured time zone.", tests: [not_null] }
  feature: { description: "The track event name.", tests: [not_null] }
  uses: Track events with this name.
  users: Distinct signed-in users who used it.
  accounts: Distinct customer accounts whose users used it.
tests:
  - unique: [site, dt, feature]
---*/
SELECT
  e.site,
  e.local_dt AS dt,
  e.name AS feature,
  CAST(count(*) AS INTEGER) AS uses,
  CAST(count(DISTINCT e.user_id) AS INTEGER) AS users,
  CAST(count(DISTINCT coalesce(e.properties->>'account_id', a.account_id)) AS INTEGER) AS accounts
FROM {{ ref('stg_events') }} AS e
LEFT JOIN {{ ref('user_accounts') }} AS a ON a.site = e.site AND a.user_id = e.user_id
WHERE e.type = 'track'
  AND e.name IS NOT NULL
  AND e.name NOT IN ('login', 'search', 'heartbeat', 'media_play', 'media_pause', 'media_ended')
  AND e.dt BETWEEN {{ from_dt }} - 1 AND {{ to_dt }} + 1
GROUP BY ALL
