-- one row per district with a published boundary: SIG_CD and its GeoJSON geometry
SELECT sig_cd, name_ko, geometry_json FROM district_boundaries ORDER BY sig_cd
