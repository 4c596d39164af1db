-- Runs on saas_db. The users the candidates name, and every user of the accounts they name (an account-level
-- email goes to the account's first user).
SELECT user_id, customer_id, email, {name}, created_at, coalesce(email_opt_out, false)
FROM {schema}.users
WHERE (user_id = ANY(%(user_ids)s) OR customer_id = ANY(%(customer_ids)s))
  AND user_id <> ALL(%(quarantined_user_ids)s::text[])
