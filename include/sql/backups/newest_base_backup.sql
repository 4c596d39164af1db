-- When the newest good base backup ended (db_backup takes one when it is older than BASE_BACKUP_EVERY_DAYS).
SELECT max(finished_at) FROM {schema}.backups WHERE kind = 'base' AND status = 'succeeded' AND deleted_at IS NULL
