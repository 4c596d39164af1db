-- The day's failed emails per campaign, with one of their errors.
SELECT campaign, count(*), min(error)
FROM {schema}.email_sends
WHERE day = %(day)s AND status = 'failed'
GROUP BY 1
ORDER BY 1
