-- one row per category: complaints received over the whole data, largest first, with the first and last day of the data (for the page's filters)
SELECT category::VARCHAR AS category, sum(complaints)::BIGINT AS complaints,
    (SELECT min(day) FROM complaints_cube_daily WHERE level = 7) AS first_day,
    (SELECT max(day) FROM complaints_cube_daily WHERE level = 7) AS last_day
FROM complaints_cube_daily
WHERE level = 5
GROUP BY ALL
ORDER BY complaints DESC, category
