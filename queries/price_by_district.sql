-- one row per district (all 25), with the median price of $item_name in the item's latest survey week (NULL where no market priced it)
WITH latest AS (
    SELECT max(surveyed_on) AS latest_on FROM prices WHERE item_name = $item_name
),
by_district AS (
    SELECT district_code, median(price_krw) AS median_krw, count(DISTINCT market_name) AS markets
    FROM prices, latest
    WHERE item_name = $item_name AND surveyed_on > latest.latest_on - INTERVAL 7 DAY
    GROUP BY district_code
)
SELECT
    d.sig_cd,
    d.name_ko,
    d.name_en,
    d.lat,
    d.lon,
    d.tile_row,
    d.tile_col,
    b.median_krw,
    coalesce(b.markets, 0) AS markets
FROM districts d
LEFT JOIN by_district b ON b.district_code = d.sig_cd
ORDER BY d.sig_cd
