-- one row per year with a forum: forums held, participants, and participants from the first forum to the end of that year
SELECT
    year(held_on) AS year,
    count(*) AS forums,
    sum(participants)::BIGINT AS participants,
    sum(sum(participants)) OVER (ORDER BY year(held_on))::BIGINT AS cumulative_participants
FROM forums
GROUP BY year(held_on)
ORDER BY year
