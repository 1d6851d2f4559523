-- one row per hotspot with a position: its congestion now and the highest level forecast within $hours hours
WITH forecast AS (
    SELECT area_code, max(congestion_rank) AS forecast_rank
    FROM hotspot_forecast
    WHERE forecast_at > measured_at AND forecast_at <= measured_at + to_hours(CAST($hours AS INTEGER))
    GROUP BY area_code
)
SELECT
    h.area_code,
    coalesce(h.area_name, c.area_name) AS area_name,
    h.area_name_en,
    h.lat,
    h.lon,
    c.congestion_level,
    c.congestion_rank,
    c.population_max,
    f.forecast_rank,
    coalesce(f.forecast_rank >= 4 AND coalesce(c.congestion_rank, 0) < 4, false) AS alert,
    c.measured_at
FROM hotspots h
JOIN hotspot_crowd c USING (area_code)
LEFT JOIN forecast f USING (area_code)
WHERE h.lat IS NOT NULL AND h.lon IS NOT NULL
ORDER BY c.congestion_rank DESC NULLS LAST, c.population_max DESC NULLS LAST
