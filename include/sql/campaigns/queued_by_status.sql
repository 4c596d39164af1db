-- The day's email_sends per campaign and status.
SELECT campaign, status, count(*) FROM {schema}.email_sends WHERE day = %(day)s GROUP BY 1, 2
