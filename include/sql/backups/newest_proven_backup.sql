-- When the newest backup that passed a restore drill was taken: retention deletes nothing newer.
SELECT max(b.started_at)
FROM {schema}.backups b
JOIN {schema}.restore_drills d USING (backup_id)
WHERE d.status = 'passed' AND b.kind = 'logical'
