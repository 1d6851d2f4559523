-- one row per registration month: proposals submitted, agree votes they hold now, and how many are answered
SELECT
    date_trunc('month', registered_at)::DATE AS month,
    count(*) AS submitted,
    sum(agree_count) AS agree_votes,
    count(*) FILTER (WHERE answered) AS answered
FROM proposals
GROUP BY month
ORDER BY month
