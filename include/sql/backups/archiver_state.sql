-- The source server's archiving now: pg_stat_archiver, whether WAL was written since the last archived segment,
-- the WAL waiting to be archived (.ready files) and what replication slots hold back.
SELECT current_setting('archive_mode'),
       a.last_archived_wal, a.last_archived_time, a.failed_count, a.last_failed_wal, a.last_failed_time,
       pg_walfile_name(pg_current_wal_lsn()),
       a.last_archived_wal IS NULL
           OR pg_walfile_name(pg_current_wal_insert_lsn() - 1) > a.last_archived_wal
           OR EXISTS (SELECT 1 FROM pg_ls_archive_statusdir() WHERE name LIKE '%%.ready'),
       (SELECT count(*) * (SELECT setting::bigint FROM pg_settings WHERE name = 'wal_segment_size') FROM pg_ls_archive_statusdir()
        WHERE name LIKE '%%.ready'),
       (SELECT coalesce(max(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)), 0)::bigint
        FROM pg_replication_slots WHERE restart_lsn IS NOT NULL),
       now()
FROM pg_stat_archiver a
