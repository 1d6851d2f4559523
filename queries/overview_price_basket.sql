-- one row: the necessities basket now against about a month earlier, as a Jevons index (geometric mean of item price relatives × 100)
WITH latest AS (
    SELECT max(surveyed_on) AS latest_on FROM prices
),
medians AS (
    SELECT
        p.item_name,
        median(p.price_krw) FILTER (WHERE p.surveyed_on > l.latest_on - INTERVAL 7 DAY) AS now_krw,
        median(p.price_krw) FILTER (
            WHERE p.surveyed_on > l.latest_on - INTERVAL 35 DAY AND p.surveyed_on <= l.latest_on - INTERVAL 28 DAY
        ) AS month_ago_krw
    FROM prices p, latest l
    WHERE p.surveyed_on > l.latest_on - INTERVAL 35 DAY
    GROUP BY p.item_name
)
SELECT
    100 * exp(avg(ln(now_krw / month_ago_krw))) AS basket_index,
    count(*) AS items,
    arg_max(item_name, now_krw / month_ago_krw) AS item_up_most,
    100 * (max(now_krw / month_ago_krw) - 1) AS item_up_most_pct,
    (SELECT latest_on FROM latest) AS as_of
FROM medians
WHERE now_krw > 0 AND month_ago_krw > 0
