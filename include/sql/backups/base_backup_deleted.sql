-- Retention removed a base backup (by Barman's id); the row stays, as history.
UPDATE {schema}.backups SET deleted_at = now() WHERE kind = 'base' AND tool_backup_id = %(tool_backup_id)s
