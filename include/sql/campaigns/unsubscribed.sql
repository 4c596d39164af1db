-- An unsubscribe puts the address on the suppression list.
INSERT INTO {schema}.email_suppressions (email, reason) VALUES (%(email)s, 'unsubscribed')
ON CONFLICT (email) DO NOTHING
