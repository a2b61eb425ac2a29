/*---
materialized: table
description: >
  The account (customer) each signed-in user belongs to, as last reported: account_id in
  identify traits or in login event properties, or the group id of a group call.
owner: inlet (built-in)
columns:
  site: { description: "Site id.", tests: [not_null] }
  user_id: { description: "The signed-in user.", tests: [not_null] }
  account_id: { description: "The account the user belongs to.", tests: [not_null] }
  updated_at: When this was last reported.
tests:
  - unique: [site, user_id]
---*/
SELECT site, user_id, arg_max(account_id, ts) AS account_id, max(ts) AS updated_at
FROM (
  SELECT
    site, user_id, ts,
    coalesce(properties->>'account_id', CASE WHEN type = 'group' THEN properties->>'group_id' END) AS account_id
  FROM {{ ref('stg_events') }}
  WHERE user_id IS NOT NULL AND (type IN ('identify', 'group') OR (type = 'track' AND name = 'login'))
)
WHERE account_id IS NOT NULL
GROUP BY site, user_id
