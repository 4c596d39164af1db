-- The channels the week's review reached.
UPDATE {schema}.weekly_reviews SET channels_sent = %(channels)s, sent_at = now() WHERE week_start = %(week_start)s
