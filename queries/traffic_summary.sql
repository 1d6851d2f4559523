-- one row: the city's traffic now (average speed against the usual for this weekday and hour, links by level, hotspots jammed, accidents and controls)
WITH log AS (
    SELECT arg_max(avg_speed_kmh, measured_at) AS city_speed_kmh, max(measured_at) AS log_measured_at
    FROM city_speed_log
),
spots AS (
    SELECT
        max(measured_at) AS traffic_measured_at,
        avg(avg_speed_kmh) AS hotspot_speed_kmh,
        count(*) AS hotspots,
        count(*) FILTER (WHERE traffic_index = '정체') AS hotspots_jammed
    FROM hotspot_traffic
),
links AS (
    SELECT
        count(*) AS links,
        count(*) FILTER (WHERE level = '정체') AS links_jammed,
        count(*) FILTER (WHERE level = '서행') AS links_slow,
        count(*) FILTER (WHERE level = '원활') AS links_free,
        max(measured_at) AS links_measured_at
    FROM road_links
),
events AS (
    SELECT
        count(*) AS events,
        count(*) FILTER (WHERE kind LIKE '%사고%') AS accidents
    FROM road_events
),
now_ AS (
    SELECT
        coalesce(log.log_measured_at, spots.traffic_measured_at, links.links_measured_at) AS measured_at,
        -- The log is the city average the curve is compared with; without it, the hotspots' mean.
        coalesce(log.city_speed_kmh, spots.hotspot_speed_kmh) AS city_speed_kmh
    FROM log, spots, links
)
SELECT
    n.measured_at,
    round(n.city_speed_kmh, 1) AS city_speed_kmh,
    round(c.avg_speed_kmh, 1) AS usual_speed_kmh,
    round(100.0 * n.city_speed_kmh / nullif(c.avg_speed_kmh, 0), 0) AS speed_index,
    s.hotspots,
    s.hotspots_jammed,
    k.links,
    k.links_jammed,
    k.links_slow,
    k.links_free,
    round(100.0 * k.links_jammed / nullif(k.links, 0), 1) AS links_jammed_pct,
    e.events,
    e.accidents
FROM now_ n
CROSS JOIN spots s
CROSS JOIN links k
CROSS JOIN events e
LEFT JOIN traffic_weekday_curve c ON c.weekday = isodow(n.measured_at) AND c.hour = hour(n.measured_at)
