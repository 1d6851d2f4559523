-- one row per ISO weekday × hour with complaints: received in the date range under the filters (whole months from the heat cube, the days at either edge from the complaints themselves)
-- The first whole month (m_from) and the first month after the range (m_to) are written out where they are used, not in a CTE: so they fold to constants and the scans of the edge days skip every other row group.
WITH months AS (
    SELECT weekday, hour, sum(complaints) AS n
    FROM complaints_cube_heat
    WHERE level = (CASE WHEN len($districts) = 0 THEN 4 ELSE 0 END)
            + (CASE WHEN len($categories) = 0 THEN 2 ELSE 0 END)
            + (CASE WHEN len($channels) = 0 THEN 1 ELSE 0 END)
        AND month >= (CASE WHEN day($date_from::DATE) = 1 THEN $date_from::DATE ELSE (date_trunc('month', $date_from::DATE) + INTERVAL 1 MONTH)::DATE END) AND month < date_trunc('month', $date_to::DATE + INTERVAL 1 DAY)::DATE
        AND (len($districts) = 0 OR list_contains($districts, district_code))
        AND (len($categories) = 0 OR list_contains($categories, category))
        AND (len($channels) = 0 OR list_contains($channels, channel))
    GROUP BY ALL
),
edge_rows AS (
    SELECT received_at, district_code, category, channel FROM complaints
    WHERE received_at >= $date_from::DATE AND received_at < least((CASE WHEN day($date_from::DATE) = 1 THEN $date_from::DATE ELSE (date_trunc('month', $date_from::DATE) + INTERVAL 1 MONTH)::DATE END), $date_to::DATE + INTERVAL 1 DAY)
    UNION ALL
    SELECT received_at, district_code, category, channel FROM complaints
    WHERE received_at >= greatest(date_trunc('month', $date_to::DATE + INTERVAL 1 DAY)::DATE, $date_from::DATE) AND received_at < $date_to::DATE + INTERVAL 1 DAY
        AND date_trunc('month', $date_to::DATE + INTERVAL 1 DAY)::DATE > (CASE WHEN day($date_from::DATE) = 1 THEN $date_from::DATE ELSE (date_trunc('month', $date_from::DATE) + INTERVAL 1 MONTH)::DATE END)
),
edges AS (
    SELECT isodow(received_at)::TINYINT AS weekday, hour(received_at)::TINYINT AS hour, count(*) AS n
    FROM edge_rows
    WHERE (len($districts) = 0 OR list_contains($districts, district_code))
        AND (len($categories) = 0 OR list_contains($categories, category))
        AND (len($channels) = 0 OR list_contains($channels, channel))
    GROUP BY ALL
)
SELECT weekday, hour, sum(n)::BIGINT AS complaints
FROM (SELECT * FROM months UNION ALL SELECT * FROM edges)
GROUP BY ALL
ORDER BY weekday, hour
