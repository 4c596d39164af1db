-- Good dumps whose files are still in storage (what retention chooses from).
SELECT backup_id, started_at FROM {schema}.backups WHERE status = 'succeeded' AND kind = 'logical' AND deleted_at IS NULL
