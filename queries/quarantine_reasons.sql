-- one row per feed × reason among the records quarantined by each feed's latest run that quarantined any, with a count and one example
WITH latest AS (
    SELECT feed, max(run_id) AS run_id FROM quarantine GROUP BY feed
)
SELECT q.feed, q.reason, count(*) AS records, any_value(q.record) AS example, any_value(q.run_id) AS run_id
FROM quarantine q
JOIN latest USING (feed, run_id)
GROUP BY q.feed, q.reason
ORDER BY records DESC
