-- one row per gender (M, F): adults in the census and panel members, their shares and the gap in percentage points; a count under $k is suppressed (NULL), and when it would be the only one, the next smallest too, so the panel total cannot give it back
WITH census_groups AS (
    SELECT gender, sum(population)::BIGINT AS census_population FROM census GROUP BY gender
),
panel_groups AS (
    SELECT gender, count(*) AS members FROM panel_members GROUP BY gender
),
groups AS (
    SELECT c.gender, c.census_population, coalesce(p.members, 0) AS members, coalesce(p.members, 0) < $k AS small
    FROM census_groups c
    LEFT JOIN panel_groups p USING (gender)
),
marked AS (
    SELECT
        *,
        small OR (
            sum(small::INTEGER) OVER () = 1 AND row_number() OVER (ORDER BY small, members, gender) = 1
        ) AS suppressed,
        census_population / sum(census_population) OVER () AS census_share,
        members / nullif(sum(members) OVER (), 0) AS share
    FROM groups
)
SELECT
    gender,
    census_population,
    census_share,
    CASE WHEN NOT suppressed THEN members END AS members,
    CASE WHEN NOT suppressed THEN share END AS panel_share,
    CASE WHEN NOT suppressed THEN 100 * (share - census_share) END AS gap_pp,
    suppressed
FROM marked
ORDER BY gender
