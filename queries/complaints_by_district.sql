-- one row per district (all 25): complaints received in the date range under the category and channel filters, and whether the district filter selects it
WITH cells AS (
    SELECT district_code::VARCHAR AS sig_cd, sum(complaints) AS complaints, sum(resolved) AS resolved
    FROM complaints_cube_daily
    WHERE level = (CASE WHEN len($categories) = 0 THEN 2 ELSE 0 END) + (CASE WHEN len($channels) = 0 THEN 1 ELSE 0 END)
        AND day BETWEEN $date_from AND $date_to
        AND (len($categories) = 0 OR list_contains($categories, category))
        AND (len($channels) = 0 OR list_contains($channels, channel))
    GROUP BY ALL
)
SELECT d.sig_cd, d.name_ko, d.name_en, d.tile_row, d.tile_col, d.lat, d.lon,
    coalesce(c.complaints, 0)::BIGINT AS complaints, coalesce(c.resolved, 0)::BIGINT AS resolved,
    len($districts) = 0 OR list_contains($districts, d.sig_cd) AS selected
FROM districts d LEFT JOIN cells c USING (sig_cd)
ORDER BY complaints DESC, d.sig_cd
