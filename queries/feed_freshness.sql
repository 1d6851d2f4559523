-- one row per published feed: whether it holds sample data, when it was published, and its declared refresh cadence (seconds) when the data dictionary names one
SELECT d.feed, d.is_sample, d.published_at, d.as_of, c.cadence_s
FROM datasets d
LEFT JOIN catalog_feeds c USING (feed)
ORDER BY d.feed
