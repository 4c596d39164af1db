-- Continuous archiving and point-in-time drills (issue 37).

-- A backup is `logical` (pg_dump, as before) or `base` (Barman's base backup: restored with the archived WAL
-- to any moment after its end). A base backup's WAL positions, and Barman's own record of it.
ALTER TABLE {schema}.backups
    ADD COLUMN kind text NOT NULL DEFAULT 'logical' CHECK (kind IN ('logical', 'base')),
    ADD COLUMN tool_backup_id text,
    ADD COLUMN begin_lsn text,
    ADD COLUMN end_lsn text,
    ADD COLUMN begin_wal text,
    ADD COLUMN end_wal text,
    ADD COLUMN tool_info jsonb;

-- A drill restores logically (a dump into a scratch database) or physically (a base backup and WAL replayed to
-- `target_time` into a scratch server); `kept_at` names a physical restore left running (`keep_restored`).
ALTER TABLE {schema}.restore_drills
    ADD COLUMN method text NOT NULL DEFAULT 'logical' CHECK (method IN ('logical', 'physical')),
    ADD COLUMN target_time timestamptz,
    ADD COLUMN kept_at text,
    ADD COLUMN kept_dir text,
    ADD COLUMN replay_seconds double precision,
    ADD COLUMN restored_to timestamptz,
    ADD COLUMN rto_target_seconds double precision;

-- How old the newest archived WAL is, every 15 minutes (backup_archive_watch).
CREATE TABLE {schema}.backup_rpo (
    measured_at timestamptz PRIMARY KEY,
    last_archived_at timestamptz,
    last_archived_wal text,
    rpo_seconds double precision,
    retained_wal_bytes bigint,
    failed_count bigint,
    last_failed_at timestamptz,
    ok boolean NOT NULL,
    current_wal text,
    last_failed_wal text,
    slot_retained_bytes bigint,
    archive text,
    problems jsonb
);
