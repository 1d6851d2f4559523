-- one row per item in the prices feed: its unit, how many markets priced it in its latest survey week, and that week
WITH latest AS (
    SELECT item_name, max(surveyed_on) AS latest_on FROM prices GROUP BY item_name
)
SELECT
    p.item_name,
    any_value(p.unit) AS unit,
    count(DISTINCT p.market_name) AS markets,
    l.latest_on
FROM prices p
JOIN latest l USING (item_name)
WHERE p.surveyed_on > l.latest_on - INTERVAL 7 DAY
GROUP BY p.item_name, l.latest_on
ORDER BY p.item_name
