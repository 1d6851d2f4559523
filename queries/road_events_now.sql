-- one row per accident or road control in the latest city data, newest first, with its expected clearance against the measurement time
WITH ref AS (
    SELECT coalesce((SELECT max(measured_at) FROM hotspot_traffic), (SELECT max(measured_at) FROM road_links)) AS measured_at
)
SELECT
    e.event_id,
    e.kind,
    e.detail,
    e.info,
    e.occurred_at,
    e.expected_clear_at,
    CASE WHEN e.expected_clear_at IS NOT NULL AND r.measured_at IS NOT NULL
        THEN date_diff('minute', r.measured_at, e.expected_clear_at) END AS minutes_to_clear,
    coalesce(e.expected_clear_at < r.measured_at, false) AS past_expected_clearance,
    e.lat,
    e.lon,
    e.area_code,
    h.area_name,
    h.area_name_en,
    r.measured_at
FROM road_events e
CROSS JOIN ref r
LEFT JOIN hotspots h USING (area_code)
ORDER BY e.occurred_at DESC NULLS LAST, e.event_id
