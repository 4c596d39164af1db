-- The week's backups and restore drills, and the newest good backup by its last day.
SELECT (SELECT count(*) FROM {schema}.backups WHERE status = 'succeeded'
        AND started_at >= %(week_start)s AND started_at < %(week_end)s::date + 1),
       (SELECT count(*) FROM {schema}.backups WHERE status = 'failed'
        AND started_at >= %(week_start)s AND started_at < %(week_end)s::date + 1),
       (SELECT max(finished_at) FROM {schema}.backups WHERE status = 'succeeded'
        AND started_at < %(week_end)s::date + 1),
       (SELECT count(*) FROM {schema}.restore_drills WHERE status = 'passed'
        AND started_at >= %(week_start)s AND started_at < %(week_end)s::date + 1),
       (SELECT count(*) FROM {schema}.restore_drills WHERE status = 'failed'
        AND started_at >= %(week_start)s AND started_at < %(week_end)s::date + 1),
       (SELECT rto_seconds FROM {schema}.restore_drills WHERE status = 'passed'
        AND started_at < %(week_end)s::date + 1 ORDER BY started_at DESC LIMIT 1)
