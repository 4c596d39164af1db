-- How the churn scores of one day turned out. An account scored on %(day)s churned when its MRR reached 0 on
-- a day in [day + 1, day + horizon]: the training label for observation date t = day + 1.
-- AUC is Mann-Whitney's: (rank sum of the churned − n1(n1 + 1)/2) ÷ (n1 × n0), equal scores sharing their mean
-- rank; the top decile is the riskiest tenth by probability, equal probabilities by customer_id as in bands.
-- An account a campaign emailed (treatment arm) in those days is left out, as in training: its outcome may be
-- the email's doing, and the emails go to the riskiest.
WITH scored AS (
    SELECT s.customer_id, s.churn_probability AS p, s.model_version,
           EXISTS (SELECT 1 FROM {schema}.customer_mrr_changes c
                   WHERE c.customer_id = s.customer_id AND c.movement = 'churn'
                     AND c.day > %(day)s AND c.day <= %(day)s + %(horizon)s) AS churned
    FROM {schema}.churn_scores s
    WHERE s.day = %(day)s
      AND NOT EXISTS (SELECT 1 FROM {schema}.email_sends e
                      WHERE e.customer_id = s.customer_id AND e.arm = 'treatment' AND e.status = 'sent'
                        AND e.day >= %(day)s AND e.day <= %(day)s + %(horizon)s - 1)
), ranked AS (
    SELECT p, churned, model_version,
           rank() OVER (ORDER BY p) + (count(*) OVER (PARTITION BY p) - 1) / 2.0 AS mean_rank,
           row_number() OVER (ORDER BY p DESC, customer_id) AS position,
           count(*) OVER () AS accounts,
           least(floor(p * 10), 9)::int AS bin
    FROM scored
), totals AS (
    SELECT count(*) AS accounts, count(*) FILTER (WHERE churned) AS n1, count(*) FILTER (WHERE NOT churned) AS n0,
           sum(mean_rank) FILTER (WHERE churned) AS rank_sum,
           avg(churned::int) FILTER (WHERE position <= greatest(1, accounts / 10)) AS top_rate,
           avg(churned::int) AS base_rate,
           array_agg(DISTINCT model_version) AS model_versions
    FROM ranked
), bins AS (
    SELECT bin, count(*) AS n, avg(p) AS mean_predicted, avg(churned::int) AS observed
    FROM ranked GROUP BY bin
)
SELECT t.accounts, t.n1 AS churned,
       CASE WHEN t.n1 > 0 AND t.n0 > 0 THEN (t.rank_sum - t.n1 * (t.n1 + 1) / 2.0) / (t.n1 * t.n0) END AS auc,
       CASE WHEN t.base_rate > 0 THEN t.top_rate / t.base_rate END AS lift_top_decile,
       (SELECT sum(n * abs(mean_predicted - observed)) / t.accounts FROM bins) AS calibration_error,
       (SELECT jsonb_agg(jsonb_build_object('bin', round(bin / 10.0, 1) || '-' || round((bin + 1) / 10.0, 1),
                                            'accounts', n, 'mean_predicted', round(mean_predicted::numeric, 4),
                                            'observed_rate', round(observed, 4)) ORDER BY bin) FROM bins)
           AS calibration,
       t.model_versions
FROM totals t
WHERE t.accounts > 0
