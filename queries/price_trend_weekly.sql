-- one row per survey week × market type: the median price of $item_name and how many markets priced it
SELECT
    date_trunc('week', surveyed_on)::DATE AS week,
    market_type,
    median(price_krw) AS median_krw,
    count(DISTINCT market_name) AS markets
FROM prices
WHERE item_name = $item_name
GROUP BY ALL
ORDER BY week, market_type
