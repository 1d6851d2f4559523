-- one row per road link, slowest first (at most $limit): road, section, speed and level, with the hotspot that reported it
SELECT
    l.link_id,
    l.road_name,
    l.start_node,
    l.end_node,
    l.speed_kmh,
    l.level,
    l.distance_m,
    l.area_code,
    coalesce(h.area_name, t.area_name) AS area_name,
    h.area_name_en,
    l.measured_at
FROM road_links l
LEFT JOIN hotspots h USING (area_code)
LEFT JOIN hotspot_traffic t USING (area_code)
WHERE l.speed_kmh IS NOT NULL
ORDER BY l.speed_kmh, l.link_id
LIMIT CAST($limit AS INTEGER)
