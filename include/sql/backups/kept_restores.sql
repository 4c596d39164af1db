-- Restored servers a physical drill left running (keep_restored).
SELECT drill_id, kept_at, kept_dir FROM {schema}.restore_drills WHERE kept_at IS NOT NULL
