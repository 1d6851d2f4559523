-- one row per market that priced $item_name in the item's latest survey week, with map coordinates
WITH latest AS (
    SELECT max(surveyed_on) AS latest_on FROM prices WHERE item_name = $item_name
),
recent AS (
    SELECT
        p.market_name,
        arg_max(p.price_krw, p.surveyed_on) AS price_krw,
        max(p.surveyed_on) AS surveyed_on,
        any_value(p.market_type) AS market_type,
        any_value(p.district_code) AS district_code,
        any_value(p.unit) AS unit
    FROM prices p, latest
    WHERE p.item_name = $item_name AND p.surveyed_on > latest.latest_on - INTERVAL 7 DAY
    GROUP BY p.market_name
)
SELECT
    r.market_name,
    r.market_type,
    r.district_code,
    d.name_ko AS district_name,
    d.name_en AS district_name_en,
    r.price_krw,
    r.unit,
    r.surveyed_on,
    -- markets missing from data/markets.csv sit near their district's centroid, spread by name
    coalesce(m.lat, d.lat + ((hash(r.market_name) % 1000) / 1000.0 - 0.5) * 0.012) AS lat,
    coalesce(m.lon, d.lon + ((hash(r.market_name || 'x') % 1000) / 1000.0 - 0.5) * 0.015) AS lon,
    coalesce(m.location_precision, 'district') AS location_precision,
    r.price_krw / median(r.price_krw) OVER () AS price_vs_median
FROM recent r
LEFT JOIN markets m ON m.market_name = r.market_name
LEFT JOIN districts d ON d.sig_cd = r.district_code
ORDER BY r.price_krw, r.market_name
