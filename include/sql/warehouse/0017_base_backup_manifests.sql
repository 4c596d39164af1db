-- A base backup's manifest: every table's rows and checksum (in `tables`, as for a dump) and the marks, read on
-- the snapshot a logical slot exports at `manifest_lsn`; a drill replayed to exactly that position must find them.
ALTER TABLE {schema}.backups
    ADD COLUMN manifest_lsn text,
    ADD COLUMN manifest_marks jsonb;

-- The WAL position a physical drill replayed to, when it was a manifest's rather than a moment.
ALTER TABLE {schema}.restore_drills
    ADD COLUMN target_lsn text;
