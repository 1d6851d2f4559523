-- one row per district (all 25, or those with a station when the district reference is missing): its station's latest reading, NULL where the station sent none or is under maintenance (점검중)
WITH latest AS (
    SELECT *, row_number() OVER (PARTITION BY district_code ORDER BY measured_at DESC, station_name) AS n
    FROM air_quality
),
places AS (
    SELECT sig_cd, name_ko, name_en, region_ko, region_en, tile_row, tile_col FROM districts
    UNION ALL
    SELECT district_code, district_name, district_name, region, region, NULL, NULL
    FROM latest
    WHERE n = 1 AND district_code NOT IN (SELECT sig_cd FROM districts)
)
SELECT
    p.sig_cd,
    p.name_ko,
    p.name_en,
    p.region_ko,
    p.region_en,
    p.tile_row,
    p.tile_col,
    a.station_name,
    a.measured_at,
    a.pm10,
    a.pm25,
    a.o3,
    a.no2,
    a.cai,
    a.grade,
    CASE a.grade WHEN '좋음' THEN 1 WHEN '보통' THEN 2 WHEN '나쁨' THEN 3 WHEN '매우나쁨' THEN 4 END AS grade_rank
FROM places p
LEFT JOIN latest a ON a.district_code = p.sig_cd AND a.n = 1
ORDER BY p.sig_cd
