-- Runs on saas_db. The address and opt-out of each user about to be emailed, read again at send time. A user_id
-- on several rows is left out: which address is meant is unknown.
SELECT user_id, min(email), bool_or(coalesce(email_opt_out, false))
FROM {schema}.users
WHERE user_id = ANY(%(user_ids)s)
GROUP BY user_id
HAVING count(*) = 1
