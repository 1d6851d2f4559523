-- one row per forecast hour of hotspot $area_code, from the forecast issued with its latest reading
WITH latest AS (
    SELECT max(measured_at) AS measured_at FROM hotspot_forecast WHERE area_code = $area_code
)
SELECT
    f.forecast_at,
    f.congestion_level,
    f.congestion_rank,
    f.population_min,
    f.population_max,
    f.measured_at,
    round(date_diff('minute', f.measured_at, f.forecast_at) / 60.0, 1) AS hours_ahead
FROM hotspot_forecast f
JOIN latest l USING (measured_at)
WHERE f.area_code = $area_code AND f.forecast_at > f.measured_at
ORDER BY f.forecast_at
