-- The two newest good backups (the newest is compared with the one before).
SELECT backup_id, finished_at, bytes FROM {schema}.backups
WHERE status = 'succeeded' AND kind = 'logical'
ORDER BY finished_at DESC
LIMIT 2
