-- The campaigns section: the last 14 days of email_sends, per day, campaign and status.
SELECT day, campaign, status, count(*)
FROM {schema}.email_sends
WHERE day > (SELECT max(day) FROM {schema}.email_sends) - 14
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
