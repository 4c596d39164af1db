-- A backup failed, with the reason.
UPDATE {schema}.backups SET status = 'failed', finished_at = now(), error = %(error)s WHERE backup_id = %(backup_id)s
