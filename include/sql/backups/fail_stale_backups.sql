-- Backups still running long after they started: their task was killed or lost.
UPDATE {schema}.backups
SET status = 'failed', finished_at = now(),
    error = 'still running ' || date_trunc('minute', now() - started_at) || ' after it started: its task was '
            'killed or lost (marked failed by the next db_backup or ops_watchdog; its partial files were removed)'
WHERE status = 'running' AND started_at < now() - %(older_than)s
RETURNING backup_id
