-- The first cohort day of %(campaign)s after the newest one in campaign_outcomes (or its first ever), so a run
-- after a pause, or the first run after a deployment with history, measures every cohort it missed.
SELECT min(s.day)
FROM {schema}.email_sends s
WHERE s.campaign = %(campaign)s AND s.arm IS NOT NULL
  AND s.day > coalesce((SELECT max(o.cohort_day) FROM {schema}.campaign_outcomes o
                        WHERE o.campaign = %(campaign)s), '-infinity'::date);
