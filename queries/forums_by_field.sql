-- one row per policy field: forums, participants, the field's share of all participants, the average forum, and the first and last forum
SELECT
    field,
    count(*) AS forums,
    sum(participants)::BIGINT AS participants,
    sum(participants) / sum(sum(participants)) OVER () AS participant_share,
    avg(participants) AS avg_participants,
    min(held_on) AS first_on,
    max(held_on) AS last_on
FROM forums
GROUP BY field
ORDER BY participants DESC, field
