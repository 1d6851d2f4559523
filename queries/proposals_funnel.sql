-- one row per registration year: proposals submitted and how many reached each stage under the rule in force on their registration date ($category '' = all fields)
SELECT
    date_trunc('year', p.registered_at)::DATE AS period,
    count(*) AS submitted,
    count(*) FILTER (WHERE p.agree_count >= r.answer_agrees) AS reached_answer,
    count(*) FILTER (WHERE p.agree_count >= r.forum_agrees) AS reached_forum,
    -- the feed carries no forum participants: agree votes stand in for them (README)
    count(*) FILTER (WHERE p.agree_count >= r.mayor_participants) AS reached_mayor,
    count(*) FILTER (WHERE p.answered) AS answered
FROM proposals p
JOIN threshold_rules r
    ON p.registered_at::DATE >= r.since AND (r.until IS NULL OR p.registered_at::DATE < r.until)
WHERE $category = '' OR p.category = $category
GROUP BY period
ORDER BY period
