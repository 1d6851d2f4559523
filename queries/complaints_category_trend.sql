-- one row per period (day, week or month, $period) × category: complaints received in the date range under the district and channel filters
SELECT date_trunc($period, day)::DATE AS period, category::VARCHAR AS category, sum(complaints)::BIGINT AS complaints
FROM complaints_cube_daily
WHERE level = (CASE WHEN len($districts) = 0 THEN 4 ELSE 0 END) + (CASE WHEN len($channels) = 0 THEN 1 ELSE 0 END)
    AND day BETWEEN $date_from AND $date_to
    AND (len($districts) = 0 OR list_contains($districts, district_code))
    AND (len($categories) = 0 OR list_contains($categories, category))
    AND (len($channels) = 0 OR list_contains($channels, channel))
GROUP BY ALL
ORDER BY period, category
