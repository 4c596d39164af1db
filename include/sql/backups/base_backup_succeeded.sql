-- A base backup succeeded: where it is, its WAL positions, and Barman's record of it.
UPDATE {schema}.backups
SET status = 'succeeded', started_at = %(started_at)s, finished_at = %(finished_at)s, uri = %(uri)s,
    bytes = %(bytes)s, format = %(format)s, tool_backup_id = %(tool_backup_id)s, begin_lsn = %(begin_lsn)s,
    end_lsn = %(end_lsn)s, begin_wal = %(begin_wal)s, end_wal = %(end_wal)s, tool_info = %(tool_info)s, error = NULL
WHERE backup_id = %(backup_id)s
