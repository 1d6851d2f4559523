-- one row per share of the people at hotspot $area_code now: eight age bands, residents vs visitors, men vs women
WITH c AS (SELECT * FROM hotspot_crowd WHERE area_code = $area_code)
SELECT measured_at, grp, band, position, pct
FROM (
    SELECT measured_at, 'age' AS grp, '0' AS band, 1 AS position, age_0_pct AS pct FROM c
    UNION ALL SELECT measured_at, 'age', '10', 2, age_10_pct FROM c
    UNION ALL SELECT measured_at, 'age', '20', 3, age_20_pct FROM c
    UNION ALL SELECT measured_at, 'age', '30', 4, age_30_pct FROM c
    UNION ALL SELECT measured_at, 'age', '40', 5, age_40_pct FROM c
    UNION ALL SELECT measured_at, 'age', '50', 6, age_50_pct FROM c
    UNION ALL SELECT measured_at, 'age', '60', 7, age_60_pct FROM c
    UNION ALL SELECT measured_at, 'age', '70', 8, age_70_pct FROM c
    UNION ALL SELECT measured_at, 'residence', 'resident', 1, resident_pct FROM c
    UNION ALL SELECT measured_at, 'residence', 'visitor', 2, non_resident_pct FROM c
    UNION ALL SELECT measured_at, 'gender', 'male', 1, male_pct FROM c
    UNION ALL SELECT measured_at, 'gender', 'female', 2, female_pct FROM c
)
ORDER BY CASE grp WHEN 'age' THEN 1 WHEN 'residence' THEN 2 ELSE 3 END, position
