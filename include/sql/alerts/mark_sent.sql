-- Which channels an alert reached (none: it was held).
UPDATE {schema}.alert_log SET channels_sent = %(channels)s, held = %(held)s WHERE alert_id = %(alert_id)s
