-- one row per published panel draw (none or one): seed, size, pool and drawn-panel fingerprints, shortfalls, method, and when and from what it was published
SELECT
    p.*,
    d.published_at,
    d.source,
    d.is_sample
FROM panel_draw p
LEFT JOIN datasets d ON d.feed = 'panel_draw'
