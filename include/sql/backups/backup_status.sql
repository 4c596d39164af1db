-- A backup's status, for a rerun: one that succeeded is not taken again.
SELECT status, manifest_uri FROM {schema}.backups WHERE backup_id = %(backup_id)s
