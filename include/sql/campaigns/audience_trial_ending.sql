-- trial_ending: three emails to a trialing account, on the sending day (the day + 1):
--   week_one       7 days after the trial started ("how is it going", with what the team did);
--   two_days_left  the day before the last day of the trial;
--   last_day       the last day (the day that holds trial_ends_at, or the day before when it is midnight).
-- The latest step that is due is sent (once: the key is the subscription and the step); none after the trial.
WITH t AS (
    SELECT t.*, t.valid_from::date AS start_day, (t.trial_ends_at - interval '1 microsecond')::date AS last_day
    FROM camp_trials t
    WHERE t.trial_ends_at > %(send_day)s::date  -- still a trial on the sending day
), due AS (
    SELECT t.*, s.step
    FROM t CROSS JOIN LATERAL (
        SELECT step FROM (VALUES ('week_one', t.start_day + 7, 1), ('two_days_left', t.last_day - 1, 2),
                                 ('last_day', t.last_day, 3)) v(step, due_day, n)
        WHERE v.due_day <= %(send_day)s::date
          AND NOT (v.step = 'week_one' AND v.due_day >= t.last_day - 1)  -- a short trial skips week_one
        ORDER BY n DESC LIMIT 1) s
)
SELECT due.customer_id, NULL::text, due.subscription_id || ':' || due.step,
       jsonb_build_object(
           'step', due.step,
           'trial_started', due.start_day,
           'trial_last_day', due.last_day,
           'days_left', due.last_day - %(send_day)s::date + 1,
           'events_30d', coalesce(e.events_30d, 0),
           'active_users_30d', coalesce(e.active_users_30d, 0),
           'features_used', coalesce(e.features_used_30d, 0))
FROM due
LEFT JOIN {schema}.account_engagement_daily e ON e.day = %(day)s AND e.customer_id = due.customer_id
