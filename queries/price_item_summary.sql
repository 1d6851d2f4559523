-- one row: $item_name's median price in its latest survey week, four weeks earlier, and a year earlier, with the spread across markets
WITH latest AS (
    SELECT max(surveyed_on) AS latest_on FROM prices WHERE item_name = $item_name
),
windowed AS (
    SELECT
        p.price_krw,
        CASE
            WHEN p.surveyed_on > l.latest_on - INTERVAL 7 DAY THEN 'now'
            WHEN p.surveyed_on > l.latest_on - INTERVAL 35 DAY
                AND p.surveyed_on <= l.latest_on - INTERVAL 28 DAY THEN 'month_ago'
            WHEN p.surveyed_on > l.latest_on - INTERVAL 371 DAY
                AND p.surveyed_on <= l.latest_on - INTERVAL 364 DAY THEN 'year_ago'
        END AS period
    FROM prices p, latest l
    WHERE p.item_name = $item_name
)
SELECT
    (SELECT latest_on FROM latest) AS as_of,
    median(price_krw) FILTER (WHERE period = 'now') AS median_now,
    median(price_krw) FILTER (WHERE period = 'month_ago') AS median_month_ago,
    median(price_krw) FILTER (WHERE period = 'year_ago') AS median_year_ago,
    min(price_krw) FILTER (WHERE period = 'now') AS min_now,
    max(price_krw) FILTER (WHERE period = 'now') AS max_now,
    count(*) FILTER (WHERE period = 'now') AS observations_now
FROM windowed
