-- one row per district (all 25, plus any code a station has that the district reference lacks): public-bike stations, racks, bikes parked now, empty stations and their share
WITH places AS (
    SELECT sig_cd, name_ko, name_en FROM districts
    UNION ALL
    SELECT DISTINCT district_code, district_code, district_code
    FROM bike_stations
    WHERE district_code NOT IN (SELECT sig_cd FROM districts)
)
SELECT
    p.sig_cd,
    p.name_ko,
    p.name_en,
    count(b.station_id) AS stations,
    coalesce(sum(b.racks), 0) AS racks,
    coalesce(sum(b.bikes_parked), 0) AS bikes,
    count(b.station_id) FILTER (WHERE b.bikes_parked = 0) AS empty_stations,
    count(b.station_id) FILTER (WHERE b.bikes_parked = 0) / nullif(count(b.station_id), 0) AS empty_share,
    max(b.measured_at) AS measured_at
FROM places p
LEFT JOIN bike_stations b ON b.district_code = p.sig_cd
GROUP BY p.sig_cd, p.name_ko, p.name_en
ORDER BY p.sig_cd
