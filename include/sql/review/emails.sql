-- The campaign emails of the week's runs, by status (held-out recipients included, as 'holdout').
SELECT status, count(*)
FROM {schema}.email_sends
WHERE day BETWEEN %(week_start)s AND %(week_end)s
GROUP BY 1
ORDER BY 1
