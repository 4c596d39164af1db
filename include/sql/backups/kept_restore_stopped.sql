-- A kept restored server was stopped and its files removed.
UPDATE {schema}.restore_drills SET kept_at = NULL WHERE drill_id = %(drill_id)s
