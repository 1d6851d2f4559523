-- one row per feed × reason among recently quarantined records, with a count and one example
SELECT feed, reason, count(*) AS records, any_value(record) AS example
FROM quarantine
GROUP BY feed, reason
ORDER BY records DESC
