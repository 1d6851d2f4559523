-- one row per complaint, newest first: the latest $limit received in the date range under the filters
SELECT complaint_id, received_at, district_code::VARCHAR AS district_code, category::VARCHAR AS category,
    subcategory::VARCHAR AS subcategory, channel::VARCHAR AS channel, status::VARCHAR AS status, resolved_at
FROM complaints
WHERE received_at >= $date_from::DATE AND received_at < $date_to::DATE + INTERVAL 1 DAY
    AND (len($districts) = 0 OR list_contains($districts, district_code))
    AND (len($categories) = 0 OR list_contains($categories, category))
    AND (len($channels) = 0 OR list_contains($channels, channel))
ORDER BY received_at DESC, complaint_id DESC
LIMIT $limit
