-- one row per city speed measurement on the day of the latest one ('today') and on the same weekday a week before ('week_before')
WITH latest AS (SELECT CAST(max(measured_at) AS DATE) AS day FROM city_speed_log)
SELECT
    CASE WHEN CAST(s.measured_at AS DATE) = l.day THEN 'today' ELSE 'week_before' END AS series,
    s.measured_at,
    -- The week-before points on today's clock, so both lines share one time axis.
    CASE WHEN CAST(s.measured_at AS DATE) = l.day THEN s.measured_at ELSE s.measured_at + INTERVAL 7 DAY END AS clock,
    s.avg_speed_kmh,
    s.hotspots
FROM city_speed_log s, latest l
WHERE CAST(s.measured_at AS DATE) IN (l.day, l.day - INTERVAL 7 DAY)
ORDER BY series, s.measured_at
