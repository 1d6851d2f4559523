-- one row per policy field: proposals, agree and disagree votes, proposals that reached their answer threshold and those answered
SELECT
    p.category,
    count(*) AS proposals,
    sum(p.agree_count) AS agree_votes,
    sum(p.disagree_count) AS disagree_votes,
    count(*) FILTER (WHERE p.agree_count >= r.answer_agrees) AS reached_answer,
    count(*) FILTER (WHERE p.answered) AS answered
FROM proposals p
JOIN threshold_rules r
    ON p.registered_at::DATE >= r.since AND (r.until IS NULL OR p.registered_at::DATE < r.until)
GROUP BY p.category
ORDER BY proposals DESC
