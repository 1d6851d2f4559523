-- one row: whether any serving dataset is the bundled sample, and the newest as-of time across datasets
SELECT
    coalesce(bool_or(is_sample), false) AS any_sample,
    count(*) AS datasets,
    max(as_of) AS newest_as_of
FROM datasets
