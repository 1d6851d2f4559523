-- one row: complaints on the data's last day against the median of the same weekday over the 8 weeks before it (the overview's tile)
WITH city AS (SELECT day, complaints FROM complaints_cube_daily WHERE level = 7),
last AS (SELECT max(day) AS day FROM city)
SELECT last.day AS day,
    (SELECT complaints FROM city WHERE city.day = last.day)::BIGINT AS complaints,
    (SELECT median(complaints) FROM city
        WHERE city.day < last.day AND city.day >= last.day - INTERVAL 56 DAY AND isodow(city.day) = isodow(last.day)
    ) AS usual,
    (SELECT as_of FROM datasets WHERE feed = 'complaints') AS as_of
FROM last
WHERE last.day IS NOT NULL
