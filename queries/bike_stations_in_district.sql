-- one row per public-bike station in the district $district_code: name, position, bikes parked, racks and an availability level (0 empty, 1 one or two bikes, 2 more)
SELECT
    station_id,
    station_name,
    round(lat, 5) AS lat,
    round(lon, 5) AS lon,
    bikes_parked,
    racks,
    CASE WHEN bikes_parked = 0 THEN 0 WHEN bikes_parked < 3 THEN 1 ELSE 2 END AS level,
    measured_at
FROM bike_stations
WHERE district_code = $district_code
ORDER BY station_id
