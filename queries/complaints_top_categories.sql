-- one row per category in one district ($district): complaints received in the date range under the category and channel filters, the category's share in the district and its share city-wide
WITH cells AS (
    SELECT district_code::VARCHAR AS district, category::VARCHAR AS category, sum(complaints) AS complaints
    FROM complaints_cube_daily
    WHERE level IN (CASE WHEN len($channels) = 0 THEN 1 ELSE 0 END, CASE WHEN len($channels) = 0 THEN 5 ELSE 4 END)
        AND (district_code::VARCHAR = $district OR district_code::VARCHAR = '*')
        AND category::VARCHAR <> '*'
        AND day BETWEEN $date_from AND $date_to
        AND (len($categories) = 0 OR list_contains($categories, category))
        AND (len($channels) = 0 OR list_contains($channels, channel))
    GROUP BY ALL
),
here AS (SELECT category, complaints FROM cells WHERE district = $district),
city AS (SELECT category, complaints FROM cells WHERE district = '*')
SELECT here.category, here.complaints::BIGINT AS complaints,
    here.complaints / sum(here.complaints) OVER () AS share,
    city.complaints / sum(city.complaints) OVER () AS city_share
FROM city LEFT JOIN here USING (category)
WHERE here.complaints > 0
ORDER BY complaints DESC, here.category
