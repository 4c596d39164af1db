-- Retention deleted a backup's files.
UPDATE {schema}.backups SET deleted_at = now() WHERE backup_id = %(backup_id)s
