-- The last 20 restore drills, newest first, and when a drill last passed.
SELECT drill_id, backup_id, started_at, status, rto_seconds, checks,
       (SELECT max(finished_at) FROM {schema}.restore_drills WHERE status = 'passed')
FROM {schema}.restore_drills
ORDER BY started_at DESC
LIMIT 20
