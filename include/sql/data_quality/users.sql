-- Runs on saas_db. The users every DAG leaves out, with the reason: a user_id several rows hold (two addresses
-- for one user: which one gets an email is for the application to say).
SELECT user_id::text, count(*) || ' rows hold this user_id: all are left out'
FROM {schema}.users
WHERE NOT %(key_is_unique)s AND user_id IS NOT NULL
GROUP BY user_id
HAVING count(*) > 1
