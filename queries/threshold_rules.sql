-- one row per dated Democracy Seoul rule, oldest first
SELECT since, until, answer_agrees, forum_agrees, mayor_participants FROM threshold_rules ORDER BY since
