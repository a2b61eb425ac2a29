/*---
materialized: incremental
description: >
  Logins per customer account and day: login events, with the account from the event's
  account_id property or else from user_accounts. account_id is empty when neither knows it.
owner: inlet (built-in)
columns:
  site: { description: "Site id.", tests: [not_null] }
  dt: { description: "Day in the configured time zone.", tests: [not_null] }
  account_id: The customer account, when known.
  logins: Login events.
  users: Distinct users who logged in.
tests:
  - unique: [site, dt, account_id]
---*/
SELECT
  l.site,
  l.local_dt AS dt,
  coalesce(l.properties->>'account_id', a.account_id) AS account_id,
  CAST(count(*) AS INTEGER) AS logins,
  CAST(count(DISTINCT l.user_id) AS INTEGER) AS users
FROM {{ ref('stg_events') }} AS l
LEFT JOIN {{ ref('user_accounts') }} AS a ON a.site = l.site AND a.user_id = l.user_id
WHERE l.type = 'track' AND l.name = 'login'
  AND l.dt BETWEEN {{ from_dt }} - 1 AND {{ to_dt }} + 1
GROUP BY ALL
