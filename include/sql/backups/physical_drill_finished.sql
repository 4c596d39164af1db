-- A physical drill's outcome: its checks, RPO (target - newest restored commit), RTO (restore + replay).
UPDATE {schema}.restore_drills
SET finished_at = now(), status = %(status)s, checks = %(checks)s, rto_seconds = %(rto_seconds)s,
    rpo_seconds = %(rpo_seconds)s, restore_seconds = %(restore_seconds)s, replay_seconds = %(replay_seconds)s,
    restored_to = %(restored_to)s, rto_target_seconds = %(rto_target_seconds)s, kept_at = %(kept_at)s,
    kept_dir = %(kept_dir)s, error = %(error)s
WHERE drill_id = %(drill_id)s
