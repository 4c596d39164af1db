-- saas_mrr's further monthly figures (issue 25, SPEC "Quick ratio", "LTV", "Trial conversion", "CAC"):
--   new_customers            customers whose movement in the month is `new` (CAC's divisor)
--   quick_ratio, ltv_cents   from the month's own figures and the logo churn of the months before
--   trials_*                 trials that ended in the month and those that became paying soon after
--   acquisition_spend_cents, cac_cents   from the optional source table acquisition_spend, else null
-- Rows written before this get new_customers, quick_ratio and ltv_cents here; the trial and spend figures of
-- every month without them are filled by the next run.
ALTER TABLE {schema}.mrr_monthly
    ADD COLUMN new_customers integer NOT NULL DEFAULT 0,
    ADD COLUMN quick_ratio numeric,
    ADD COLUMN ltv_cents bigint,
    ADD COLUMN trials_ended integer,
    ADD COLUMN trials_converted integer,
    ADD COLUMN trial_conversion_rate numeric,
    ADD COLUMN acquisition_spend_cents bigint,
    ADD COLUMN cac_cents bigint;
UPDATE {schema}.mrr_monthly m
SET new_customers = (SELECT count(*) FROM {schema}.customer_mrr_monthly c
                     WHERE c.month = m.month AND c.movement = 'new');
