-- feature_adoption for [from_day, day]: per core feature, the accounts that used it in the 30 days up to the day,
-- and their share of the accounts active in those 30 days (account_engagement_daily's rows that day): a running
-- sum of eng_feature_steps (40_account_engagement.sql).
DELETE FROM {schema}.feature_adoption WHERE day BETWEEN %(from_day)s::date AND %(day)s::date;
INSERT INTO {schema}.feature_adoption (day, feature, accounts_30d, adoption_rate)
WITH grid AS (  -- every configured feature on every day, used or not
    SELECT f.feature, d.day::date AS day, coalesce(sum(s.n), 0) AS n
    FROM unnest(%(features)s::text[]) f(feature)
    CROSS JOIN generate_series(%(from_day)s::date - 30, %(day)s::date, interval '1 day') d(day)
    LEFT JOIN eng_feature_steps s ON s.feature = f.feature AND s.day = d.day::date
    GROUP BY f.feature, d.day
), active AS (
    SELECT day, count(*) AS accounts FROM {schema}.account_engagement_daily
    WHERE day BETWEEN %(from_day)s::date AND %(day)s::date
    GROUP BY day
)
SELECT g.day, g.feature, g.accounts_30d, round(g.accounts_30d::numeric / nullif(a.accounts, 0), 6)
FROM (SELECT day, feature, sum(n) OVER (PARTITION BY feature ORDER BY day) AS accounts_30d FROM grid) g
LEFT JOIN active a USING (day)
WHERE g.day BETWEEN %(from_day)s::date AND %(day)s::date;
