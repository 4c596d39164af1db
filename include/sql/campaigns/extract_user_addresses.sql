-- Runs on saas_db. Every address of a user (more than one row may hold its user_id).
SELECT email FROM {schema}.users WHERE user_id = %(user_id)s AND email IS NOT NULL
