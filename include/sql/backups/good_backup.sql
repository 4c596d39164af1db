-- The dump a logical drill restores: the newest good one with its files (backup_id NULL), or the one named.
SELECT backup_id, started_at, bytes, sha256, format, tables, objects
FROM {schema}.backups
WHERE status = 'succeeded' AND kind = 'logical' AND deleted_at IS NULL
  AND (%(backup_id)s::text IS NULL OR backup_id = %(backup_id)s::text)
ORDER BY started_at DESC
LIMIT 1
