-- The newest restore drill that passed.
SELECT drill_id, finished_at FROM {schema}.restore_drills
WHERE status = 'passed'
ORDER BY finished_at DESC
LIMIT 1
