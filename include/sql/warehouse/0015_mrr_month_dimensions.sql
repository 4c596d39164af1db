-- Each customer-month row keeps the plan, billing interval, segment and country it counts under in
-- mrr_by_dimension_monthly, so that a run moves those sums by the rows it replaces, as it moves mrr_monthly,
-- instead of summing every month again from the first one it restates. The stored rows have none yet:
-- forgetting the fingerprints makes the next saas_mrr run a full refresh (it says so in its log).
ALTER TABLE {schema}.customer_mrr_monthly
    ADD COLUMN plan_id text,
    ADD COLUMN billing_interval text,
    ADD COLUMN segment text,
    ADD COLUMN country text;
DELETE FROM {schema}.mrr_source_fingerprints;
