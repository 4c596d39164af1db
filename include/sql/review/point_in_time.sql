-- The week's point-in-time figures: the RPO at its end and its worst, and the last physical drill's RPO and RTO.
SELECT (SELECT rpo_seconds FROM {schema}.backup_rpo WHERE measured_at < %(week_end)s::date + 1
        ORDER BY measured_at DESC LIMIT 1),
       (SELECT max(rpo_seconds) FROM {schema}.backup_rpo
        WHERE measured_at >= %(week_start)s AND measured_at < %(week_end)s::date + 1),
       (SELECT min(finished_at) FROM {schema}.backups WHERE kind = 'base' AND status = 'succeeded'
        AND deleted_at IS NULL),
       d.rpo_seconds, d.rto_seconds, d.rto_target_seconds, d.status
FROM (SELECT 1) one
LEFT JOIN LATERAL (SELECT rpo_seconds, rto_seconds, rto_target_seconds, status FROM {schema}.restore_drills
                   WHERE method = 'physical' AND started_at < %(week_end)s::date + 1
                   ORDER BY started_at DESC LIMIT 1) d ON true
