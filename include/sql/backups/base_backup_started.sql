-- A base backup starts (a rerun of the same backup_id starts it again).
INSERT INTO {schema}.backups (backup_id, started_at, status, kind, format)
VALUES (%(backup_id)s, now(), 'running', 'base', 'barman')
ON CONFLICT (backup_id) DO UPDATE SET started_at = now(), finished_at = NULL, status = 'running', error = NULL
