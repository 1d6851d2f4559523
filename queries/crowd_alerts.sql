-- one row per hotspot whose forecast reaches 붐빔 within $hours hours of its latest reading, with up to $suggestions calmer hotspots within $radius_km km (nearest first)
WITH latest AS (
    -- A hotspot's forecast belongs to the reading it was issued with: keep only the newest issue.
    SELECT area_code, max(measured_at) AS measured_at FROM hotspot_forecast GROUP BY area_code
),
window_rows AS (
    SELECT f.*
    FROM hotspot_forecast f
    JOIN latest l USING (area_code, measured_at)
    WHERE f.forecast_at > f.measured_at
      AND f.forecast_at <= f.measured_at + to_hours(CAST($hours AS INTEGER))
),
window_peak AS (
    SELECT area_code, max(congestion_rank) AS forecast_max_rank
    FROM window_rows GROUP BY area_code
),
busy AS (
    SELECT
        area_code,
        any_value(measured_at) AS measured_at,
        min(forecast_at) AS busy_from,
        max(forecast_at) AS busy_until,
        count(*) AS busy_hours,
        max(population_max) AS peak_population_max
    FROM window_rows
    WHERE congestion_rank >= 4
    GROUP BY area_code
),
spots AS (
    -- Names and positions from the reference list; the crowd reading fills in a hotspot it lacks.
    SELECT
        coalesce(h.area_code, c.area_code) AS area_code,
        coalesce(h.area_name, c.area_name) AS area_name,
        coalesce(h.area_name_en, h.area_name, c.area_name) AS area_name_en,
        h.category,
        h.lat,
        h.lon,
        c.congestion_level,
        c.congestion_rank,
        c.measured_at AS crowd_measured_at
    FROM hotspots h
    FULL OUTER JOIN hotspot_crowd c USING (area_code)
),
calm AS (
    -- Calm now and over the same hours ahead; a hotspot without a forecast is judged on its reading.
    SELECT s.*, coalesce(p.forecast_max_rank, s.congestion_rank) AS forecast_max_rank
    FROM spots s LEFT JOIN window_peak p USING (area_code)
    WHERE s.congestion_rank <= 2
      AND coalesce(p.forecast_max_rank, s.congestion_rank) <= 2
      AND s.lat IS NOT NULL AND s.lon IS NOT NULL
),
pairs AS (
    SELECT
        b.area_code,
        c.area_code AS alt_code,
        c.area_name AS alt_name,
        c.area_name_en AS alt_name_en,
        c.congestion_level AS alt_level,
        c.forecast_max_rank AS alt_forecast_max_rank,
        -- Haversine on a 6,371 km sphere.
        2 * 6371.0 * asin(sqrt(
            pow(sin(radians(c.lat - s.lat) / 2), 2)
            + cos(radians(s.lat)) * cos(radians(c.lat)) * pow(sin(radians(c.lon - s.lon) / 2), 2)
        )) AS distance_km
    FROM busy b
    JOIN spots s USING (area_code)
    JOIN calm c ON c.area_code <> b.area_code
),
ranked AS (
    SELECT *, row_number() OVER (PARTITION BY area_code ORDER BY distance_km, alt_code) AS n
    FROM pairs
    WHERE distance_km <= CAST($radius_km AS DOUBLE)
),
suggested AS (
    SELECT
        area_code,
        list(
            {
                'area_code': alt_code,
                'area_name': alt_name,
                'area_name_en': alt_name_en,
                'congestion_level': alt_level,
                'forecast_max_rank': alt_forecast_max_rank,
                'distance_km': round(distance_km, 2)
            }
            ORDER BY distance_km, alt_code
        ) AS suggestions
    FROM ranked
    WHERE n <= CAST($suggestions AS INTEGER)
    GROUP BY area_code
)
SELECT
    b.area_code,
    s.area_name,
    s.area_name_en,
    s.category,
    s.congestion_level AS level_now,
    s.congestion_rank AS rank_now,
    coalesce(s.congestion_rank >= 4, false) AS busy_now,
    b.measured_at,
    b.busy_from,
    b.busy_until,
    b.busy_hours,
    round(date_diff('minute', b.measured_at, b.busy_from) / 60.0, 1) AS hours_until_busy,
    b.peak_population_max,
    coalesce(g.suggestions, []) AS suggestions
FROM busy b
LEFT JOIN spots s USING (area_code)
LEFT JOIN suggested g USING (area_code)
ORDER BY b.busy_from, b.peak_population_max DESC, b.area_code
