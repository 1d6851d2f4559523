-- one row per unanswered proposal that crossed its answer threshold: when it crossed, days waiting at the data's as-of time, and whether it is past $deadline_days ($category '' = all fields)
WITH as_of AS (
    SELECT coalesce(max(as_of), now()::TIMESTAMP) AS as_of FROM datasets WHERE feed = 'proposals'
)
SELECT
    p.proposal_id,
    p.title,
    p.category,
    p.registered_at,
    p.agree_count,
    r.answer_agrees,
    c.first_seen_at AS crossed_at,
    c.estimated AS crossed_at_estimated,
    date_diff('day', c.first_seen_at, a.as_of) AS days_waiting,
    date_diff('day', c.first_seen_at, a.as_of) > $deadline_days AS overdue
FROM proposals p
JOIN threshold_rules r
    ON p.registered_at::DATE >= r.since AND (r.until IS NULL OR p.registered_at::DATE < r.until)
JOIN proposal_crossings c ON c.proposal_id = p.proposal_id AND c.level = r.answer_agrees
CROSS JOIN as_of a
WHERE NOT p.answered AND ($category = '' OR p.category = $category)
ORDER BY days_waiting DESC, p.proposal_id
