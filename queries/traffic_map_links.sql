-- one row per road link with a drawable path, most congested first (at most $max_links): path thinned to at most $max_points points rounded to about a metre, speed and level
WITH parsed AS (
    SELECT
        l.*,
        CASE WHEN json_valid(l.path) THEN json_transform(l.path, '[["DOUBLE"]]') END AS pts
    FROM road_links l
),
drawable AS (
    SELECT *, len(pts) AS n,
        -- Keep every step-th point and the last one, so a link keeps its ends and its shape.
        greatest(1, CAST(ceil((len(pts) - 1) / greatest(CAST($max_points AS INTEGER) - 1, 1)) AS INTEGER)) AS step
    FROM parsed
    WHERE len(pts) >= 2
)
SELECT
    link_id,
    road_name,
    start_node,
    end_node,
    speed_kmh,
    level,
    CASE level WHEN '정체' THEN 3 WHEN '서행' THEN 2 WHEN '원활' THEN 1 ELSE 0 END AS level_rank,
    area_code,
    measured_at,
    to_json(list_transform(
        list_filter(pts, lambda p, i: (i - 1) % step = 0 OR i = n),
        lambda p: [round(p[1], 5), round(p[2], 5)]
    )) AS path_json,
    count(*) OVER () AS drawable_links
FROM drawable
ORDER BY level_rank DESC, speed_kmh NULLS LAST, link_id
LIMIT CAST($max_links AS INTEGER)
