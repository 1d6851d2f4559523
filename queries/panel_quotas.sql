-- one row per district × gender × age band: the census adults, the exact and the rounded quota of the latest panel draw, and its seed
SELECT
    q.seed,
    q.sig_cd,
    q.district_name,
    d.name_en AS district_name_en,
    q.gender,
    q.age_band,
    q.census_population,
    q.exact_quota,
    q.quota,
    q.remainder_seat
FROM panel_quotas q
LEFT JOIN districts d USING (sig_cd)
ORDER BY q.sig_cd, q.gender, q.age_band
