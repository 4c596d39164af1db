-- A drill's outcome: its status, every check, and its timings.
UPDATE {schema}.restore_drills
SET finished_at = now(), status = %(status)s, checks = %(checks)s, rto_seconds = %(rto_seconds)s,
    rpo_seconds = %(rpo_seconds)s, download_seconds = %(download_seconds)s, restore_seconds = %(restore_seconds)s,
    verify_seconds = %(verify_seconds)s, target = %(target)s, scratch_database = %(scratch_database)s,
    kept_database = %(kept_database)s, error = %(error)s
WHERE drill_id = %(drill_id)s
