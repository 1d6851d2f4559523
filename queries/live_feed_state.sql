-- one row for the feed named $feed (none when the data dictionary has no such feed): its refresh cadence and, when published, its newest measurement, source, and the replayed time of any replay running
SELECT
    c.feed,
    c.cadence_s,
    d.as_of,
    d.published_at,
    d.is_sample,
    d.source,
    (SELECT max(as_of) FROM datasets WHERE source = 'replay') AS replay_as_of
FROM catalog_feeds c
LEFT JOIN datasets d USING (feed)
WHERE c.feed = $feed
