-- one row per hotspot (in category $category, or all when empty): position, latest crowd reading and road speed around it
WITH spots AS (
    SELECT
        coalesce(h.area_code, c.area_code) AS area_code,
        coalesce(h.area_name, c.area_name) AS area_name,
        coalesce(h.area_name_en, h.area_name, c.area_name) AS area_name_en,
        h.category,
        h.district_code,
        h.lat,
        h.lon,
        c.congestion_level,
        c.congestion_rank,
        c.congestion_message,
        c.population_min,
        c.population_max,
        c.measured_at AS crowd_measured_at
    FROM hotspots h
    FULL OUTER JOIN hotspot_crowd c USING (area_code)
)
SELECT
    s.*,
    t.avg_speed_kmh,
    t.traffic_index,
    t.message AS traffic_message,
    t.measured_at AS traffic_measured_at
FROM spots s
LEFT JOIN hotspot_traffic t USING (area_code)
WHERE $category = '' OR s.category = $category
ORDER BY s.congestion_rank DESC NULLS LAST, s.population_max DESC NULLS LAST, s.area_code
