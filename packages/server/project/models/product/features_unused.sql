/*---
materialized: view
description: >
  Known features nobody used in the last 30 days, per site. For other periods, filter
  feature_usage_summary on uses_7d or uses_90d.
owner: inlet (built-in)
columns:
  site: Site id.
  feature: The feature (track event name).
  listed: True when the feature is listed in seeds/features.csv.
  last_used_dt: Last day it was used; empty when never.
---*/
SELECT site, feature, listed, last_used_dt
FROM {{ ref('feature_usage_summary') }}
WHERE uses_30d = 0
