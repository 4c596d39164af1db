-- A base backup succeeded: where it is, its WAL positions, Barman's record of it, and its manifest (if taken).
UPDATE {schema}.backups
SET status = 'succeeded', started_at = %(started_at)s, finished_at = %(finished_at)s, uri = %(uri)s,
    bytes = %(bytes)s, format = %(format)s, tool_backup_id = %(tool_backup_id)s, begin_lsn = %(begin_lsn)s,
    end_lsn = %(end_lsn)s, begin_wal = %(begin_wal)s, end_wal = %(end_wal)s, tool_info = %(tool_info)s,
    manifest_lsn = %(manifest_lsn)s, manifest_uri = %(manifest_uri)s, tables = %(tables)s,
    manifest_marks = %(manifest_marks)s, error = NULL
WHERE backup_id = %(backup_id)s
