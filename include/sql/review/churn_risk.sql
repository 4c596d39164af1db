-- Churn risk on the week's last scored day: accounts in the high band, those not in it on the last scored day
-- before the week, and the MRR at risk (MRR x probability) of the high band.
WITH last_day AS (
    SELECT max(day) AS day FROM {schema}.churn_scores WHERE day <= %(week_end)s AND day >= %(week_start)s
), before AS (
    SELECT max(day) AS day FROM {schema}.churn_scores WHERE day < %(week_start)s
)
SELECT (SELECT day FROM last_day), count(*),
       count(*) FILTER (WHERE prev.risk_band IS DISTINCT FROM 'high'),
       coalesce(round(sum(s.mrr_cents * s.churn_probability)), 0)::bigint
FROM {schema}.churn_scores s
LEFT JOIN {schema}.churn_scores prev ON prev.customer_id = s.customer_id AND prev.day = (SELECT day FROM before)
WHERE s.day = (SELECT day FROM last_day) AND s.risk_band = 'high'
