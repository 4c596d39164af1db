-- The manifest of the base backup Barman calls %(tool_backup_id)s: its WAL position, tables and marks (none
-- when it was taken without wal_level = logical).
SELECT manifest_lsn, tables, manifest_marks
FROM {schema}.backups
WHERE tool_backup_id = %(tool_backup_id)s AND kind = 'base' AND status = 'succeeded' AND manifest_lsn IS NOT NULL
