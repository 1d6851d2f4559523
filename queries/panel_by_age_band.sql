-- one row per age band: adults in the census and panel members, their shares and the gap in percentage points; a count under $k is suppressed (NULL), and when it would be the only one, the next smallest too, so the panel total cannot give it back
WITH census_groups AS (
    SELECT age_band, sum(population)::BIGINT AS census_population FROM census GROUP BY age_band
),
panel_groups AS (
    SELECT age_band, count(*) AS members FROM panel_members GROUP BY age_band
),
groups AS (
    SELECT c.age_band, c.census_population, coalesce(p.members, 0) AS members, coalesce(p.members, 0) < $k AS small
    FROM census_groups c
    LEFT JOIN panel_groups p USING (age_band)
),
marked AS (
    SELECT
        *,
        small OR (
            sum(small::INTEGER) OVER () = 1 AND row_number() OVER (ORDER BY small, members, age_band) = 1
        ) AS suppressed,
        census_population / sum(census_population) OVER () AS census_share,
        members / nullif(sum(members) OVER (), 0) AS share
    FROM groups
)
SELECT
    age_band,
    census_population,
    census_share,
    CASE WHEN NOT suppressed THEN members END AS members,
    CASE WHEN NOT suppressed THEN share END AS panel_share,
    CASE WHEN NOT suppressed THEN 100 * (share - census_share) END AS gap_pp,
    suppressed
FROM marked
ORDER BY age_band
