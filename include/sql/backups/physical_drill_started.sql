-- A physical drill starts (a rerun of the same drill_id starts it again).
INSERT INTO {schema}.restore_drills (drill_id, backup_id, started_at, status, method, target_time, target_lsn)
VALUES (%(drill_id)s, %(backup_id)s, %(started_at)s, 'running', 'physical', %(target_time)s, %(target_lsn)s)
ON CONFLICT (drill_id) DO UPDATE SET backup_id = excluded.backup_id, started_at = excluded.started_at,
    finished_at = NULL, status = 'running', checks = NULL, error = NULL, method = 'physical',
    target_time = excluded.target_time, target_lsn = excluded.target_lsn, kept_at = NULL, kept_dir = NULL
