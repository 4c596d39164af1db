-- A backup starts (a rerun of the same backup_id starts it again).
INSERT INTO {schema}.backups (backup_id, started_at, status, format, compression)
VALUES (%(backup_id)s, now(), 'running', %(format)s, %(compression)s)
ON CONFLICT (backup_id) DO UPDATE SET started_at = now(), finished_at = NULL, status = 'running', error = NULL,
    format = excluded.format, compression = excluded.compression
