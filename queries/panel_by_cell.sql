-- one row per district × gender × age band of the census: adults, panel members and shares; members under $k are suppressed (NULL), with complementary cells so no hidden count follows from a published total
WITH census_cells AS (
    SELECT sig_cd, gender, age_band, sum(population)::BIGINT AS census_population
    FROM census
    GROUP BY sig_cd, gender, age_band
),
panel_cells AS (
    SELECT sig_cd, gender, age_band, count(*) AS members
    FROM panel_members
    GROUP BY sig_cd, gender, age_band
),
cells AS (
    SELECT c.sig_cd, c.gender, c.age_band, c.census_population, coalesce(p.members, 0) AS members
    FROM census_cells c
    LEFT JOIN panel_cells p USING (sig_cd, gender, age_band)
),
-- A group whose total is published (a district, a gender, an age band, the whole panel) must not
-- hide exactly one cell, or its total minus the shown cells gives it back: then its smallest shown
-- cell is hidden too. The second pass settles groups the first pass left with one hidden cell.
pass0 AS (
    SELECT *, members < $k AS hidden FROM cells
),
pass1 AS (
    SELECT
        * REPLACE (
            hidden
            OR (sum(hidden::INTEGER) OVER (PARTITION BY sig_cd) = 1
                AND row_number() OVER (PARTITION BY sig_cd ORDER BY hidden, members, gender, age_band) = 1)
            OR (sum(hidden::INTEGER) OVER (PARTITION BY gender) = 1
                AND row_number() OVER (PARTITION BY gender ORDER BY hidden, members, sig_cd, age_band) = 1)
            OR (sum(hidden::INTEGER) OVER (PARTITION BY age_band) = 1
                AND row_number() OVER (PARTITION BY age_band ORDER BY hidden, members, sig_cd, gender) = 1)
            OR (sum(hidden::INTEGER) OVER () = 1
                AND row_number() OVER (ORDER BY hidden, members, sig_cd, gender, age_band) = 1)
            AS hidden
        )
    FROM pass0
),
pass2 AS (
    SELECT
        * REPLACE (
            hidden
            OR (sum(hidden::INTEGER) OVER (PARTITION BY sig_cd) = 1
                AND row_number() OVER (PARTITION BY sig_cd ORDER BY hidden, members, gender, age_band) = 1)
            OR (sum(hidden::INTEGER) OVER (PARTITION BY gender) = 1
                AND row_number() OVER (PARTITION BY gender ORDER BY hidden, members, sig_cd, age_band) = 1)
            OR (sum(hidden::INTEGER) OVER (PARTITION BY age_band) = 1
                AND row_number() OVER (PARTITION BY age_band ORDER BY hidden, members, sig_cd, gender) = 1)
            OR (sum(hidden::INTEGER) OVER () = 1
                AND row_number() OVER (ORDER BY hidden, members, sig_cd, gender, age_band) = 1)
            AS hidden
        )
    FROM pass1
),
shares AS (
    SELECT
        *,
        census_population / sum(census_population) OVER () AS census_share,
        members / nullif(sum(members) OVER (), 0) AS share
    FROM pass2
)
SELECT
    s.sig_cd,
    d.name_ko AS district_name,
    d.name_en AS district_name_en,
    s.gender,
    s.age_band,
    s.census_population,
    s.census_share,
    CASE WHEN NOT s.hidden THEN s.members END AS members,
    CASE WHEN NOT s.hidden THEN s.share END AS panel_share,
    CASE WHEN NOT s.hidden THEN 100 * (s.share - s.census_share) END AS gap_pp,
    s.hidden AS suppressed
FROM shares s
LEFT JOIN districts d USING (sig_cd)
ORDER BY s.sig_cd, s.gender, s.age_band
