-- one row: forums held, participants in all, the first and last forum, the median forum's participants, fields, and where the data came from
SELECT
    count(*) AS forums,
    coalesce(sum(participants), 0)::BIGINT AS participants,
    min(held_on) AS first_on,
    max(held_on) AS last_on,
    median(participants) AS median_participants,
    count(DISTINCT field) AS fields,
    (SELECT any_value(source) FROM datasets WHERE feed = 'forums') AS source,
    (SELECT any_value(as_of) FROM datasets WHERE feed = 'forums') AS as_of
FROM forums
