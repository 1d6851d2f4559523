-- one row: hotspots busy now, the three most crowded, and how many are forecast to reach 붐빔 within $hours hours
WITH ranked AS (
    SELECT c.area_code, coalesce(h.area_name, c.area_name) AS area_name, c.congestion_rank, c.population_max,
        c.measured_at,
        row_number() OVER (ORDER BY c.congestion_rank DESC, c.population_max DESC NULLS LAST, c.area_code) AS pos
    FROM hotspot_crowd c
    LEFT JOIN hotspots h USING (area_code)
),
forecast_busy AS (
    SELECT count(DISTINCT f.area_code) AS hotspots
    FROM hotspot_forecast f
    WHERE f.congestion_rank >= 4
        AND f.forecast_at > f.measured_at
        AND f.forecast_at <= f.measured_at + to_hours(CAST($hours AS INTEGER))
)
SELECT
    count(*) AS hotspots,
    count(*) FILTER (WHERE congestion_rank >= 4) AS busy_now,
    count(*) FILTER (WHERE congestion_rank = 3) AS somewhat_busy_now,
    string_agg(area_name, ' · ' ORDER BY pos) FILTER (WHERE pos <= 3) AS most_crowded,
    (SELECT hotspots FROM forecast_busy) AS forecast_busy,
    max(measured_at) AS measured_at
FROM ranked
