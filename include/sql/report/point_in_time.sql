-- Point-in-time recovery on the page: the RPO now and its worst in 7 days, the window one can restore into
-- (the end of the oldest good base backup to the newest archived WAL, or a later moment a drill restored),
-- and the last physical drills' RPO and RTO.
SELECT (SELECT rpo_seconds FROM {schema}.backup_rpo ORDER BY measured_at DESC LIMIT 1),
       (SELECT max(rpo_seconds) FROM {schema}.backup_rpo WHERE measured_at > now() - interval '7 days'),
       (SELECT min(finished_at) FROM {schema}.backups WHERE kind = 'base' AND status = 'succeeded'
        AND deleted_at IS NULL),
       greatest((SELECT last_archived_at FROM {schema}.backup_rpo ORDER BY measured_at DESC LIMIT 1),
                (SELECT max(restored_to) FROM {schema}.restore_drills WHERE method = 'physical'
                 AND status = 'passed')),
       (SELECT coalesce(jsonb_agg(jsonb_build_object('drill_id', drill_id, 'target_time', target_time,
                                                     'status', status, 'rpo_seconds', rpo_seconds,
                                                     'rto_seconds', rto_seconds, 'rto_target_seconds',
                                                     rto_target_seconds, 'kept_at', kept_at)
                                  ORDER BY started_at DESC), '[]'::jsonb)
        FROM (SELECT * FROM {schema}.restore_drills WHERE method = 'physical'
              ORDER BY started_at DESC LIMIT 10) d)
