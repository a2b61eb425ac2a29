/*---
materialized: table
description: >
  How people arrive and where they go: for each session, where it came from (utm_source, else
  the referrer's host, else (direct)), the page it landed on, and each other page it reached.
  Filter target_path to see what leads people to a page, e.g. target_path LIKE '/lectures/%'.
owner: inlet (built-in)
columns:
  site: { description: "Site id.", tests: [not_null] }
  dt: { description: "Day the session started, in the configured time zone.", tests: [not_null] }
  source: { description: "utm_source, else the referrer's host, else (direct).", tests: [not_null] }
  landing_path: { description: "First page of the session.", tests: [not_null] }
  target_path: { description: "A later page of the same session.", tests: [not_null] }
  sessions: Sessions that went from this source and landing page to the target page.
  visitors: Distinct browsers or devices among them.
tests:
  - unique: [site, dt, source, landing_path, target_path]
---*/
WITH ordered AS (
  SELECT *, row_number() OVER (PARTITION BY site, session_key ORDER BY ts, event_id) AS step
  FROM {{ ref('stg_page_views') }}
),
entries AS (
  SELECT
    site, session_key, anonymous_id, local_dt AS dt, path AS landing_path,
    CASE
      WHEN utm_source IS NOT NULL AND utm_source <> '' THEN utm_source
      WHEN referrer IS NULL OR referrer = '' THEN '(direct)'
      ELSE coalesce(
        nullif(regexp_extract(referrer, '^[A-Za-z][A-Za-z0-9+.-]*://(?:www\.)?([^/:?#]+)', 1), ''),
        -- Stored without its scheme (www.bing.com/search?q=x, as the collector kept such a referrer
        -- before 2026-12-07): a first segment with a dot is the host.
        nullif(regexp_extract(referrer, '^(?:www\.)?([^/:?#\s]+\.[^/:?#\s]+)(?:[/:?#]|$)', 1), ''),
        referrer
      )
    END AS source
  FROM ordered
  WHERE step = 1
)
SELECT
  en.site,
  en.dt,
  en.source,
  en.landing_path,
  o.path AS target_path,
  CAST(count(DISTINCT en.session_key) AS INTEGER) AS sessions,
  CAST(count(DISTINCT en.anonymous_id) AS INTEGER) AS visitors
FROM entries AS en
JOIN ordered AS o ON o.site = en.site AND o.session_key = en.session_key AND o.step > 1
WHERE o.path IS NOT NULL AND o.path IS DISTINCT FROM en.landing_path
GROUP BY ALL
