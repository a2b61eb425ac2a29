/*---
materialized: table
description: >
  Every known feature per site with its use in the last 7, 30 and 90 days (today included, in
  the configured time zone). Known features are those listed in the features seed
  (seeds/features.csv) and every feature ever used.
owner: inlet (built-in)
columns:
  site: { description: "Site id.", tests: [not_null] }
  feature: { description: "The track event name.", tests: [not_null] }
  listed: True when the feature is listed in seeds/features.csv.
  uses_7d: Uses in the last 7 days.
  uses_30d: Uses in the last 30 days.
  uses_90d: Uses in the last 90 days.
  last_used_dt: Last day the feature was used; empty when never.
tests:
  - unique: [site, feature]
---*/
WITH sites AS (
  SELECT DISTINCT site FROM {{ ref('daily_active_users') }}
),
known AS (
  SELECT s.site, f.feature FROM sites AS s CROSS JOIN (SELECT DISTINCT CAST(feature AS VARCHAR) AS feature FROM {{ ref('features') }}) AS f
  UNION
  SELECT DISTINCT site, feature FROM {{ ref('feature_usage_daily') }}
)
SELECT
  k.site,
  k.feature,
  k.feature IN (SELECT CAST(feature AS VARCHAR) FROM {{ ref('features') }}) AS listed,
  CAST(coalesce(sum(u.uses) FILTER (WHERE u.dt > current_date - 7), 0) AS INTEGER) AS uses_7d,
  CAST(coalesce(sum(u.uses) FILTER (WHERE u.dt > current_date - 30), 0) AS INTEGER) AS uses_30d,
  CAST(coalesce(sum(u.uses) FILTER (WHERE u.dt > current_date - 90), 0) AS INTEGER) AS uses_90d,
  max(u.dt) AS last_used_dt
FROM known AS k
LEFT JOIN {{ ref('feature_usage_daily') }} AS u ON u.site = k.site AND u.feature = k.feature
GROUP BY k.site, k.feature
