-- retention_cohorts: users by signup month (users.created_at); `retained` = those active in the month
-- `months_since` months later (the current month: so far). The run rewrites the months its window
-- touches, and refreshes every cohort's size and rate (users can be added with an earlier created_at).
DELETE FROM {schema}.retention_cohorts
WHERE (cohort_month + make_interval(months => months_since))::date >= date_trunc('month', %(from_day)s::date);
INSERT INTO {schema}.retention_cohorts (cohort_month, months_since, cohort_size, retained, retention_rate)
SELECT u.cohort_month,
       ((extract(year FROM a.month) - extract(year FROM u.cohort_month)) * 12
        + extract(month FROM a.month) - extract(month FROM u.cohort_month))::integer,
       0, count(*), NULL
FROM (SELECT DISTINCT user_id, date_trunc('month', day)::date AS month FROM {schema}.user_activity_daily
      WHERE day >= date_trunc('month', %(from_day)s::date) AND day <= %(day)s::date) a
JOIN eng_users u USING (user_id)
WHERE a.month >= u.cohort_month
GROUP BY 1, 2;

-- Every cohort has a row for each month from its signup through the day's, even with nobody retained.
INSERT INTO {schema}.retention_cohorts (cohort_month, months_since, cohort_size, retained, retention_rate)
SELECT c.cohort_month, m.months_since, 0, 0, NULL
FROM (SELECT DISTINCT cohort_month FROM eng_users WHERE cohort_month <= %(day)s::date) c
CROSS JOIN LATERAL generate_series(0, ((extract(year FROM %(day)s::date) - extract(year FROM c.cohort_month)) * 12
                                       + extract(month FROM %(day)s::date) - extract(month FROM c.cohort_month))::integer
                                  ) m(months_since)
ON CONFLICT (cohort_month, months_since) DO NOTHING;

UPDATE {schema}.retention_cohorts r
SET cohort_size = s.size, retention_rate = round(r.retained::numeric / nullif(s.size, 0), 6)
FROM (SELECT cohort_month, count(*) AS size FROM eng_users GROUP BY cohort_month) s
WHERE s.cohort_month = r.cohort_month
  AND (r.cohort_size, r.retention_rate) IS DISTINCT FROM (s.size, round(r.retained::numeric / nullif(s.size, 0), 6));
