-- The suppression list's rows for these addresses, and the rows a person added in another form (compared again
-- in the normal form).
SELECT email, reason FROM {schema}.email_suppressions
WHERE email = ANY(%(addresses)s) OR email !~ '^[a-z0-9._%%+-]+@[a-z0-9.-]+$'
ORDER BY email
