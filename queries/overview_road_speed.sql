-- one row: the city's average road speed now (mean over hotspots), its spread of road indexes, and the usual speed for this weekday and hour with the speed index (100 = usual)
WITH now_ AS (
    SELECT
        avg(avg_speed_kmh) AS avg_speed_kmh,
        count(avg_speed_kmh) AS hotspots,
        count(*) FILTER (WHERE traffic_index = '정체') AS jammed,
        count(*) FILTER (WHERE traffic_index = '서행') AS slow,
        max(measured_at) AS measured_at
    FROM hotspot_traffic
)
SELECT
    n.avg_speed_kmh,
    n.hotspots,
    n.jammed,
    n.slow,
    n.measured_at,
    u.avg_speed_kmh AS usual_speed_kmh,
    round(100.0 * n.avg_speed_kmh / nullif(u.avg_speed_kmh, 0), 0) AS speed_index
FROM now_ n
LEFT JOIN traffic_weekday_curve u
    ON u.weekday = isodow(n.measured_at) AND u.hour = hour(n.measured_at)
