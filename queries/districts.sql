-- one row per district (25): codes, names, region, centroid and tile-grid position
SELECT sig_cd, name_ko, name_en, region_ko, region_en, lat, lon, tile_row, tile_col
FROM districts
ORDER BY sig_cd
