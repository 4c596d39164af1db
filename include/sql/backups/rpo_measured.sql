-- One RPO measurement (backup_archive_watch, every 15 minutes); a rerun of the same moment replaces it.
INSERT INTO {schema}.backup_rpo (measured_at, last_archived_at, last_archived_wal, rpo_seconds, retained_wal_bytes,
    failed_count, last_failed_at, last_failed_wal, current_wal, slot_retained_bytes, archive, ok, problems)
VALUES (%(measured_at)s, %(last_archived_at)s, %(last_archived_wal)s, %(rpo_seconds)s, %(retained_wal_bytes)s,
    %(failed_count)s, %(last_failed_at)s, %(last_failed_wal)s, %(current_wal)s, %(slot_retained_bytes)s,
    %(archive)s, %(ok)s, %(problems)s)
ON CONFLICT (measured_at) DO UPDATE SET last_archived_at = excluded.last_archived_at,
    last_archived_wal = excluded.last_archived_wal, rpo_seconds = excluded.rpo_seconds,
    retained_wal_bytes = excluded.retained_wal_bytes, failed_count = excluded.failed_count,
    last_failed_at = excluded.last_failed_at, last_failed_wal = excluded.last_failed_wal,
    current_wal = excluded.current_wal, slot_retained_bytes = excluded.slot_retained_bytes,
    archive = excluded.archive, ok = excluded.ok, problems = excluded.problems
