-- one row per hotspot category of the reference list, with its number of hotspots
SELECT category, count(*) AS hotspots
FROM hotspots
WHERE category IS NOT NULL
GROUP BY category
ORDER BY hotspots DESC, category
