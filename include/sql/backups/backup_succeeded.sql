-- A backup succeeded: its manifest.
UPDATE {schema}.backups
SET status = 'succeeded', started_at = %(started_at)s, finished_at = %(finished_at)s, uri = %(uri)s,
    bytes = %(bytes)s, sha256 = %(sha256)s, server_version = %(server_version)s, tables = %(tables)s,
    objects = %(objects)s, database = %(database)s, manifest_uri = %(manifest_uri)s,
    pg_dump_version = %(pg_dump_version)s, dump_seconds = %(dump_seconds)s, error = NULL
WHERE backup_id = %(backup_id)s
