-- one row per forum in date order, with its number in that order and the running total of participants (cumulative reach)
SELECT
    forum_id,
    held_on,
    topic,
    field,
    participants,
    outcome,
    row_number() OVER (ORDER BY held_on, forum_id) AS forum_number,
    sum(participants) OVER (ORDER BY held_on, forum_id ROWS UNBOUNDED PRECEDING)::BIGINT AS cumulative_participants
FROM forums
ORDER BY held_on, forum_id
