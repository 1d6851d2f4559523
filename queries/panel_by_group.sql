-- one row per group of $dimension ('gender', 'age_band' or 'district'; its key column is filled, the other two NULL): adults in the census and panel members, their shares and the gap in percentage points; a count under $k is suppressed (NULL), and when it would be the only one, the next smallest too, so the panel total cannot give it back
WITH census_groups AS (
    SELECT
        CASE WHEN $dimension = 'gender' THEN gender END AS gender,
        CASE WHEN $dimension = 'age_band' THEN age_band END AS age_band,
        CASE WHEN $dimension = 'district' THEN sig_cd END AS sig_cd,
        sum(population)::BIGINT AS census_population
    FROM census
    WHERE $dimension IN ('gender', 'age_band', 'district')
    GROUP BY ALL
),
panel_groups AS (
    SELECT
        CASE WHEN $dimension = 'gender' THEN gender END AS gender,
        CASE WHEN $dimension = 'age_band' THEN age_band END AS age_band,
        CASE WHEN $dimension = 'district' THEN sig_cd END AS sig_cd,
        count(*) AS members
    FROM panel_members
    GROUP BY ALL
),
groups AS (
    SELECT c.*, coalesce(p.members, 0) AS members, coalesce(p.members, 0) < $k AS small
    FROM census_groups c
    LEFT JOIN panel_groups p
        ON c.gender IS NOT DISTINCT FROM p.gender
        AND c.age_band IS NOT DISTINCT FROM p.age_band
        AND c.sig_cd IS NOT DISTINCT FROM p.sig_cd
),
marked AS (
    SELECT
        *,
        small OR (
            sum(small::INTEGER) OVER () = 1
            AND row_number() OVER (ORDER BY small, members, gender, age_band, sig_cd) = 1
        ) AS suppressed,
        census_population / sum(census_population) OVER () AS census_share,
        members / nullif(sum(members) OVER (), 0) AS share
    FROM groups
)
SELECT
    m.gender,
    m.age_band,
    m.sig_cd,
    d.name_ko AS district_name,
    d.name_en AS district_name_en,
    census_population,
    census_share,
    CASE WHEN NOT suppressed THEN members END AS members,
    CASE WHEN NOT suppressed THEN share END AS panel_share,
    CASE WHEN NOT suppressed THEN 100 * (share - census_share) END AS gap_pp,
    suppressed
FROM marked m
LEFT JOIN districts d USING (sig_cd)
ORDER BY m.gender, m.age_band, m.sig_cd
