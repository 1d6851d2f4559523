-- one row per map cell of about 1 km holding bike stations: where its stations are on average, how many, their bikes and racks, empty stations, and an availability level (0 no bike, 1 under 3 a station, 2 more)
SELECT
    round(avg(lat), 5) AS lat,
    round(avg(lon), 5) AS lon,
    count(*) AS stations,
    sum(bikes_parked) AS bikes,
    sum(racks) AS racks,
    count(*) FILTER (WHERE bikes_parked = 0) AS empty_stations,
    CASE WHEN sum(bikes_parked) = 0 THEN 0 WHEN sum(bikes_parked) < 3 * count(*) THEN 1 ELSE 2 END AS level
FROM bike_stations
-- 0.009° of latitude and 0.0113° of longitude are both about 1 km in Seoul
GROUP BY floor(lat / 0.009), floor(lon / 0.0113)
ORDER BY lat, lon
