-- one row: complaints received in the date range under the filters, resolved and open among them, the days covered and the data's as-of time
SELECT
    coalesce(sum(complaints), 0)::BIGINT AS complaints,
    coalesce(sum(resolved), 0)::BIGINT AS resolved,
    coalesce(sum(open), 0)::BIGINT AS open,
    date_diff('day', $date_from::DATE, $date_to::DATE) + 1 AS days,
    (SELECT as_of FROM datasets WHERE feed = 'complaints') AS as_of,
    (SELECT is_sample FROM datasets WHERE feed = 'complaints') AS is_sample
FROM complaints_cube_daily
-- The cube holds every total: read only the level whose summed-away dimensions are the unfiltered ones.
WHERE level = (CASE WHEN len($districts) = 0 THEN 4 ELSE 0 END)
        + (CASE WHEN len($categories) = 0 THEN 2 ELSE 0 END)
        + (CASE WHEN len($channels) = 0 THEN 1 ELSE 0 END)
    AND day BETWEEN $date_from AND $date_to
    AND (len($districts) = 0 OR list_contains($districts, district_code))
    AND (len($categories) = 0 OR list_contains($categories, category))
    AND (len($channels) = 0 OR list_contains($channels, channel))
