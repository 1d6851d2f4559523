-- one row per proposal registered in the 180 days before the data's as-of time that has not reached its forum threshold: the next threshold under its rule and the agree votes still needed, fewest first, at most $limit
WITH as_of AS (
    SELECT coalesce(max(as_of), now()::TIMESTAMP) AS as_of FROM datasets WHERE feed = 'proposals'
),
judged AS (
    SELECT
        p.proposal_id,
        p.title,
        p.category,
        p.registered_at,
        p.agree_count,
        CASE WHEN p.agree_count < r.answer_agrees THEN r.answer_agrees ELSE r.forum_agrees END AS next_threshold,
        CASE WHEN p.agree_count < r.answer_agrees THEN 'answer' ELSE 'forum' END AS next_stage
    FROM proposals p
    JOIN threshold_rules r
        ON p.registered_at::DATE >= r.since AND (r.until IS NULL OR p.registered_at::DATE < r.until)
    CROSS JOIN as_of a
    WHERE p.agree_count < r.forum_agrees AND p.registered_at > a.as_of - INTERVAL 180 DAY
)
SELECT *, next_threshold - agree_count AS votes_needed
FROM judged
ORDER BY votes_needed, registered_at DESC
LIMIT $limit
