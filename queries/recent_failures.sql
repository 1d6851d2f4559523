-- one row per failed or rejected loader run, newest first, at most $limit
SELECT feed, started_at, outcome, api_code, rows_received, rows_quarantined, message
FROM load_runs
WHERE outcome IN ('failed', 'rejected')
ORDER BY started_at DESC
LIMIT $limit
