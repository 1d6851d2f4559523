-- one row: proposals, how many reached their answer threshold, how many of those are answered, waiting and overdue past $deadline_days, and the data's as-of time
WITH as_of AS (
    SELECT coalesce(max(as_of), now()::TIMESTAMP) AS as_of FROM datasets WHERE feed = 'proposals'
),
judged AS (
    SELECT p.answered, p.agree_count >= r.answer_agrees AS reached, c.first_seen_at
    FROM proposals p
    JOIN threshold_rules r
        ON p.registered_at::DATE >= r.since AND (r.until IS NULL OR p.registered_at::DATE < r.until)
    LEFT JOIN proposal_crossings c ON c.proposal_id = p.proposal_id AND c.level = r.answer_agrees
)
SELECT
    count(*) AS proposals,
    count(*) FILTER (WHERE reached) AS reached_answer,
    count(*) FILTER (WHERE reached AND answered) AS answered_after_reaching,
    count(*) FILTER (WHERE reached AND NOT answered) AS waiting,
    count(*) FILTER (WHERE reached AND NOT answered AND date_diff('day', first_seen_at, a.as_of) > $deadline_days) AS overdue,
    any_value(a.as_of) AS as_of
FROM judged CROSS JOIN as_of a
