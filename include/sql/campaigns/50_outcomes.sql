-- campaign_outcomes of %(campaign)s for the cohort days %(first_day)s .. %(last_day)s, replacing what an earlier
-- run measured for them: per variant, arm and cohort day, the recipients, those converted, and the MRR their
-- accounts paid at the end of the window (each converted account once).
DELETE FROM {schema}.campaign_outcomes
WHERE campaign = %(campaign)s AND cohort_day BETWEEN %(first_day)s AND %(last_day)s;
WITH rows AS (
    SELECT r.variant, r.arm, r.day, r.customer_id, o.converted
    FROM camp_outcome_recipients r JOIN camp_outcome_rows o USING (idempotency_key)
), accounts AS (
    SELECT variant, arm, day, customer_id,
           coalesce((SELECT c.mrr_cents FROM {schema}.customer_mrr_changes c
                     WHERE c.customer_id = a.customer_id AND c.day <= a.day + %(window_days)s
                     ORDER BY c.day DESC LIMIT 1), 0) AS mrr_cents
    FROM (SELECT DISTINCT variant, arm, day, customer_id FROM rows WHERE converted) a
)
INSERT INTO {schema}.campaign_outcomes (campaign, variant, arm, cohort_day, eligible, converted, mrr_retained_cents,
                                        window_days)
SELECT %(campaign)s, g.variant, g.arm, g.day, g.eligible, g.converted,
       coalesce((SELECT sum(a.mrr_cents) FROM accounts a
                 WHERE a.variant = g.variant AND a.arm = g.arm AND a.day = g.day), 0),
       %(window_days)s
FROM (SELECT variant, arm, day, count(*) AS eligible, count(*) FILTER (WHERE converted) AS converted
      FROM rows GROUP BY 1, 2, 3) g;
