-- one row: whether any serving dataset is the bundled sample, the newest as-of time across datasets, and whether (and up to when) the watcher is replaying the sample's recorded day
SELECT
    coalesce(bool_or(is_sample), false) AS any_sample,
    count(*) AS datasets,
    max(as_of) AS newest_as_of,
    coalesce(bool_or(source = 'replay'), false) AS replaying,
    max(as_of) FILTER (WHERE source = 'replay') AS replay_as_of
FROM datasets
