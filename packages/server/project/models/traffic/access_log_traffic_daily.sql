/*---
materialized: incremental
description: >
  Requests per day (UTC, the log partition), path and status from the access logs, with the
  errors marked. Skipped until a log source has written access_logs.
owner: inlet (built-in)
skip_when_missing: [access_logs]
columns:
  dt: { description: "Day of the requests (UTC).", tests: [not_null] }
  path: Request path.
  status: { description: "HTTP status code.", tests: [not_null] }
  status_class: 2xx, 3xx, 4xx or 5xx.
  is_error: True for 4xx and 5xx responses.
  requests: Requests.
tests:
  - unique: [dt, path, status]
---*/
SELECT
  dt,
  path,
  status,
  CAST(status // 100 AS VARCHAR) || 'xx' AS status_class,
  status >= 400 AS is_error,
  CAST(count(*) AS INTEGER) AS requests
FROM access_logs
WHERE dt BETWEEN {{ from_dt }} AND {{ to_dt }}
GROUP BY ALL
