-- one row: the worst air grade across district stations, where it is, the city's mean fine dust, and the measurement time
WITH graded AS (
    SELECT *,
        CASE grade WHEN '좋음' THEN 1 WHEN '보통' THEN 2 WHEN '나쁨' THEN 3 WHEN '매우나쁨' THEN 4 END AS grade_rank
    FROM air_quality
)
SELECT
    arg_max(grade, grade_rank) FILTER (WHERE grade_rank IS NOT NULL) AS worst_grade,
    max(grade_rank) AS worst_rank,
    string_agg(district_name, ' · ' ORDER BY pm10 DESC NULLS LAST) FILTER (
        WHERE grade_rank = (SELECT max(grade_rank) FROM graded)
    ) AS worst_districts,
    count(*) FILTER (WHERE grade_rank >= 3) AS bad_stations,
    count(*) AS stations,
    avg(pm10) AS pm10_mean,
    avg(pm25) AS pm25_mean,
    max(measured_at) AS measured_at
FROM graded
