-- one row per hour of the day: the usual city speed (mean and middle half of days) on the weekday of the latest city speed measurement
WITH latest AS (SELECT max(measured_at) AS measured_at FROM city_speed_log)
SELECT
    CAST(l.measured_at AS DATE) + to_hours(c.hour) AS hour_start,
    c.hour,
    c.weekday,
    c.avg_speed_kmh,
    c.p25_speed_kmh,
    c.p75_speed_kmh,
    c.days
FROM traffic_weekday_curve c
JOIN latest l ON c.weekday = isodow(l.measured_at)
ORDER BY c.hour
