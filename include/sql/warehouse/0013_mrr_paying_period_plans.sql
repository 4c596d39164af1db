-- The plan and billing interval of each stored paying period, for mrr_by_dimension_monthly's plan and
-- billing_interval rows. The stored periods have none yet: forgetting the fingerprints makes the next saas_mrr
-- run a full refresh (it says so in its log), which stores them and writes every month's rows.
ALTER TABLE {schema}.mrr_paying_periods
    ADD COLUMN plan_id text,
    ADD COLUMN billing_interval text;
DELETE FROM {schema}.mrr_source_fingerprints;
