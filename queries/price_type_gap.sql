-- one row per item: median price at traditional markets and at large marts in the item's latest survey week, and the gap in percent
WITH latest AS (
    SELECT item_name, max(surveyed_on) AS latest_on FROM prices GROUP BY item_name
)
SELECT
    p.item_name,
    median(p.price_krw) FILTER (WHERE p.market_type = '전통시장') AS traditional_krw,
    median(p.price_krw) FILTER (WHERE p.market_type = '대형마트') AS mart_krw,
    100.0 * (median(p.price_krw) FILTER (WHERE p.market_type = '대형마트')
        / median(p.price_krw) FILTER (WHERE p.market_type = '전통시장') - 1) AS mart_premium_pct
FROM prices p
JOIN latest l USING (item_name)
WHERE p.surveyed_on > l.latest_on - INTERVAL 7 DAY
GROUP BY p.item_name
ORDER BY mart_premium_pct DESC NULLS LAST
