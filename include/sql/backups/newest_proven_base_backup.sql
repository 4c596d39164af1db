-- When the newest base backup that passed a physical drill ended: base-backup retention deletes nothing newer.
SELECT max(b.finished_at)
FROM {schema}.backups b
JOIN {schema}.restore_drills d ON d.backup_id = b.tool_backup_id
WHERE d.status = 'passed' AND d.method = 'physical' AND b.kind = 'base'
