-- db_backup / db_restore_drill beside the SPEC columns (added by issue 7).

-- What a backup holds beyond the SPEC's `tables`: the sequences, indexes and constraints a restore must
-- bring back (`objects`), where its manifest is, how it was taken, why it failed, and when retention
-- removed its files (the row stays, as history).
ALTER TABLE {schema}.backups
    ADD COLUMN database text,
    ADD COLUMN manifest_uri text,
    ADD COLUMN compression text,
    ADD COLUMN pg_dump_version text,
    ADD COLUMN dump_seconds double precision,
    ADD COLUMN objects jsonb,
    ADD COLUMN error text,
    ADD COLUMN deleted_at timestamptz;
CREATE INDEX backups_good_idx ON {schema}.backups (started_at DESC) WHERE status = 'succeeded' AND deleted_at IS NULL;

-- A drill's parts: RPO (the backup's age when restored), download, restore and verification times, where
-- it restored to, and the scratch database when it was kept.
ALTER TABLE {schema}.restore_drills
    ADD COLUMN rpo_seconds double precision,
    ADD COLUMN download_seconds double precision,
    ADD COLUMN restore_seconds double precision,
    ADD COLUMN verify_seconds double precision,
    ADD COLUMN target text,
    ADD COLUMN scratch_database text,
    ADD COLUMN kept_database boolean,
    ADD COLUMN error text;
