-- one row: panel members, adults in the census, the representativeness index 1 − ½·Σ|panel share − census share| over district × gender × age band cells and per dimension, attendance (index and attendance NULL under $k members), and whether the members of the latest draw's round match its fingerprint
WITH cells AS (
    SELECT c.sig_cd, c.gender, c.age_band, c.census_population, coalesce(p.members, 0) AS members
    FROM (
        SELECT sig_cd, gender, age_band, sum(population) AS census_population FROM census GROUP BY ALL
    ) c
    LEFT JOIN (
        SELECT sig_cd, gender, age_band, count(*) AS members FROM panel_members GROUP BY ALL
    ) p USING (sig_cd, gender, age_band)
),
shares AS (
    SELECT
        *,
        census_population / sum(census_population) OVER () AS census_share,
        members / nullif(sum(members) OVER (), 0) AS panel_share
    FROM cells
),
idx AS (
    SELECT
        1 - 0.5 * sum(abs(panel_share - census_share)) AS index_cells,
        (SELECT 1 - 0.5 * sum(abs(p - c)) FROM (
            SELECT sum(panel_share) AS p, sum(census_share) AS c FROM shares GROUP BY gender)) AS index_gender,
        (SELECT 1 - 0.5 * sum(abs(p - c)) FROM (
            SELECT sum(panel_share) AS p, sum(census_share) AS c FROM shares GROUP BY age_band)) AS index_age_band,
        (SELECT 1 - 0.5 * sum(abs(p - c)) FROM (
            SELECT sum(panel_share) AS p, sum(census_share) AS c FROM shares GROUP BY sig_cd)) AS index_district
    FROM shares
),
members AS (
    SELECT
        count(*) AS members,
        count(DISTINCT draw_round) AS draw_rounds,
        avg(sessions_attended) AS avg_sessions,
        avg((sessions_attended > 0)::INTEGER) AS attended_share,
        sum(votes)::BIGINT AS votes
    FROM panel_members
),
latest_draw AS (
    SELECT any_value(draw_round) AS draw_round, any_value(drawn_sha256) AS drawn_sha256 FROM panel_draw
),
drawn_members AS (
    SELECT sha256(string_agg(member_id, chr(10) ORDER BY member_id)) AS members_sha256
    FROM panel_members
    WHERE draw_round = (SELECT draw_round FROM latest_draw)
),
census_info AS (
    SELECT
        sum(population)::BIGINT AS census_population,
        max(reference_year) AS census_year,
        bool_or(precision = 'approximate') AS census_approximate
    FROM census
)
SELECT
    m.members,
    m.draw_rounds,
    ci.census_population,
    ci.census_year,
    ci.census_approximate,
    $k AS min_cell,
    CASE WHEN m.members >= $k THEN i.index_cells END AS representativeness,
    CASE WHEN m.members >= $k THEN i.index_gender END AS representativeness_gender,
    CASE WHEN m.members >= $k THEN i.index_age_band END AS representativeness_age_band,
    CASE WHEN m.members >= $k THEN i.index_district END AS representativeness_district,
    CASE WHEN m.members >= $k THEN m.avg_sessions END AS avg_sessions,
    CASE WHEN m.members >= $k THEN m.attended_share END AS attended_share,
    CASE WHEN m.members >= $k THEN m.votes END AS votes,
    dm.members_sha256,
    ld.drawn_sha256,
    dm.members_sha256 = ld.drawn_sha256 AS matches_draw,
    (SELECT any_value(source) FROM datasets WHERE feed = 'panel') AS source,
    (SELECT any_value(published_at) FROM datasets WHERE feed = 'panel') AS published_at
FROM members m, idx i, latest_draw ld, drawn_members dm, census_info ci
