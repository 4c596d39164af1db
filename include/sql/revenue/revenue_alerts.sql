-- Days of [alert_from, e_day] where MRR fell more than drop_threshold (a fraction) from the day before, or
-- churned MRR exceeded spike_factor × its mean over the 28 days before (only with 28 such days on record).
SELECT day, mrr_cents, before_cents, churn_cents, trailing_churn_mean,
       mrr_cents < before_cents * (1 - %(drop_threshold)s) AS mrr_dropped,
       trailing_days = 28 AND trailing_churn_mean > 0
           AND churn_cents > %(spike_factor)s * trailing_churn_mean AS churn_spiked
FROM (
    SELECT day, mrr_cents, churn_cents,
           lag(mrr_cents) OVER (ORDER BY day) AS before_cents,
           avg(churn_cents) OVER w AS trailing_churn_mean,
           count(*) OVER w AS trailing_days
    FROM {schema}.mrr_daily
    WHERE day BETWEEN %(alert_from)s::date - 28 AND %(day)s::date
    WINDOW w AS (ORDER BY day ROWS BETWEEN 28 PRECEDING AND 1 PRECEDING)
) d
WHERE day >= %(alert_from)s::date
  AND (mrr_cents < before_cents * (1 - %(drop_threshold)s)
       OR (trailing_days = 28 AND trailing_churn_mean > 0 AND churn_cents > %(spike_factor)s * trailing_churn_mean))
ORDER BY day
