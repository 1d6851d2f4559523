-- one row per category: resolved complaints received in the date range under the filters, and their median and 90th-percentile time to resolution in hours (read from bins 15% wide: within about 7% of the exact value)
-- The first whole month (m_from) and the first month after the range (m_to) are written out where they are used, not in a CTE: so they fold to constants and the scans of the edge days skip every other row group.
WITH months AS (
    SELECT category::VARCHAR AS category, bin, sum(complaints) AS n
    FROM complaints_cube_resolution
    WHERE level = (CASE WHEN len($districts) = 0 THEN 4 ELSE 0 END) + (CASE WHEN len($channels) = 0 THEN 1 ELSE 0 END)
        AND month >= (CASE WHEN day($date_from::DATE) = 1 THEN $date_from::DATE ELSE (date_trunc('month', $date_from::DATE) + INTERVAL 1 MONTH)::DATE END) AND month < date_trunc('month', $date_to::DATE + INTERVAL 1 DAY)::DATE
        AND (len($districts) = 0 OR list_contains($districts, district_code))
        AND (len($categories) = 0 OR list_contains($categories, category))
        AND (len($channels) = 0 OR list_contains($channels, channel))
    GROUP BY ALL
),
-- Edge days: [date_from, m_from) and [m_to, date_to], only the columns used (the ids would cost most
-- of the query), each resolved complaint with the bin the import stored for it.
edge_rows AS (
    SELECT resolution_bin, district_code, category, channel FROM complaints
    WHERE resolution_bin IS NOT NULL AND received_at >= $date_from::DATE AND received_at < least((CASE WHEN day($date_from::DATE) = 1 THEN $date_from::DATE ELSE (date_trunc('month', $date_from::DATE) + INTERVAL 1 MONTH)::DATE END), $date_to::DATE + INTERVAL 1 DAY)
    UNION ALL
    SELECT resolution_bin, district_code, category, channel FROM complaints
    WHERE resolution_bin IS NOT NULL AND received_at >= greatest(date_trunc('month', $date_to::DATE + INTERVAL 1 DAY)::DATE, $date_from::DATE) AND received_at < $date_to::DATE + INTERVAL 1 DAY
        AND date_trunc('month', $date_to::DATE + INTERVAL 1 DAY)::DATE > (CASE WHEN day($date_from::DATE) = 1 THEN $date_from::DATE ELSE (date_trunc('month', $date_from::DATE) + INTERVAL 1 MONTH)::DATE END)
),
edges AS (
    SELECT category::VARCHAR AS category, resolution_bin AS bin, count(*) AS n
    FROM edge_rows
    WHERE (len($districts) = 0 OR list_contains($districts, district_code))
        AND (len($categories) = 0 OR list_contains($categories, category))
        AND (len($channels) = 0 OR list_contains($channels, channel))
    GROUP BY ALL
),
bins AS (
    SELECT category, bin, sum(n) AS n FROM (SELECT * FROM months UNION ALL SELECT * FROM edges) GROUP BY ALL
),
running AS (
    SELECT category, bin, n,
        sum(n) OVER (PARTITION BY category ORDER BY bin) AS upto,
        sum(n) OVER (PARTITION BY category) AS total
    FROM bins
),
-- Within its bin a quantile is placed by the share of the bin below it: linearly in the first bin,
-- geometrically in the others (their widths grow by 15%); the open last bin gives its lower bound.
placed AS (
    SELECT category, bin, upto, total,
        CASE WHEN bin = 0 THEN 0.5 * f
            WHEN bin = 61 THEN 0.5 * pow(1.15, 60)
            ELSE 0.5 * pow(1.15, bin - 1 + f) END AS at_half,
        CASE WHEN bin = 0 THEN 0.5 * g
            WHEN bin = 61 THEN 0.5 * pow(1.15, 60)
            ELSE 0.5 * pow(1.15, bin - 1 + g) END AS at_ninety
    FROM (
        SELECT *, (0.5 * total - (upto - n)) / n AS f, (0.9 * total - (upto - n)) / n AS g FROM running
    )
)
SELECT category, any_value(total)::BIGINT AS resolved,
    round(min_by(at_half, bin) FILTER (WHERE upto >= 0.5 * total), 2) AS median_hours,
    round(min_by(at_ninety, bin) FILTER (WHERE upto >= 0.9 * total), 2) AS p90_hours
FROM placed
GROUP BY category
ORDER BY median_hours, category
