-- one row per feed in the data dictionary: serving version, state, last success, as-of time, rows, and its latest run
WITH last_run AS (
    SELECT feed, arg_max(outcome, started_at) AS last_outcome, arg_max(message, started_at) AS last_message,
        arg_max(api_code, started_at) AS last_api_code, max(started_at) AS last_run_at
    FROM load_runs GROUP BY feed
),
last_success AS (
    SELECT feed, max(finished_at) AS last_success
    FROM load_runs WHERE outcome IN ('ok', 'unchanged') GROUP BY feed
),
degraded AS (
    -- the first failure since the last success: how long the feed has been serving its last good data
    SELECT r.feed, min(r.started_at) AS degraded_since
    FROM load_runs r
    LEFT JOIN last_success s USING (feed)
    WHERE r.outcome IN ('failed', 'rejected') AND (s.last_success IS NULL OR r.started_at > s.last_success)
    GROUP BY r.feed
),
failures AS (
    SELECT feed, count(*) AS failures_7d
    FROM load_runs
    WHERE outcome IN ('failed', 'rejected') AND started_at > now() - INTERVAL 7 DAY
    GROUP BY feed
)
SELECT
    c.feed,
    c.title_ko,
    c.title_en,
    c.service,
    c.source,
    c.licence,
    c.cadence_s,
    c.tables,
    CASE
        WHEN d.feed IS NULL AND r.last_outcome IN ('failed', 'rejected') THEN 'error'
        WHEN d.feed IS NULL THEN 'no_data'
        WHEN r.last_outcome IN ('failed', 'rejected') THEN 'degraded'
        ELSE 'ok'
    END AS state,
    coalesce(s.last_success, d.published_at) AS last_success,
    d.as_of,
    d.row_count,
    d.is_sample,
    d.source AS data_source,
    d.version,
    r.last_outcome,
    r.last_api_code,
    r.last_message,
    r.last_run_at,
    coalesce(f.failures_7d, 0) AS failures_7d,
    g.degraded_since
FROM catalog_feeds c
LEFT JOIN datasets d USING (feed)
LEFT JOIN last_run r USING (feed)
LEFT JOIN last_success s USING (feed)
LEFT JOIN failures f USING (feed)
LEFT JOIN degraded g USING (feed)
ORDER BY c.feed
