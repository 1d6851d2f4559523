-- one row: public-bike stations, racks, bikes parked now and empty stations across Seoul, with the measurement time
SELECT
    count(*) AS stations,
    coalesce(sum(racks), 0) AS racks,
    coalesce(sum(bikes_parked), 0) AS bikes,
    count(*) FILTER (WHERE bikes_parked = 0) AS empty_stations,
    max(measured_at) AS measured_at
FROM bike_stations
