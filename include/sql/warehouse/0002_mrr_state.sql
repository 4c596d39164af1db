-- saas_mrr's own tables beside the SPEC outputs (added by issue 3).

-- Per customer, the first day and the first month-end with MRR > 0 that a run has seen. An incremental run
-- reads it to tell `new` from `reactivation` without rereading all history; each run first forgets what
-- falls inside its window and recomputes it, so reruns stay identical. full_refresh rebuilds it.
CREATE TABLE {schema}.mrr_customer_first_paid (
    customer_id text PRIMARY KEY,
    first_paid_day date,
    first_paid_month date
);
CREATE INDEX mrr_customer_first_paid_day_idx ON {schema}.mrr_customer_first_paid (first_paid_day);
CREATE INDEX mrr_customer_first_paid_month_idx ON {schema}.mrr_customer_first_paid (first_paid_month);

-- The accounts behind mrr_daily's movements: one row per customer and day on which its set of paying
-- periods changed and its MRR moved. Currency drift of an account whose periods did not change that day
-- is only in mrr_daily's expansion/contraction totals (it moves every foreign account a little every day).
CREATE TABLE {schema}.customer_mrr_changes (
    day date NOT NULL,
    customer_id text NOT NULL,
    previous_cents bigint NOT NULL,
    mrr_cents bigint NOT NULL,
    movement text NOT NULL CHECK (movement IN ('new', 'expansion', 'contraction', 'churn', 'reactivation')),
    PRIMARY KEY (day, customer_id)
);
CREATE INDEX customer_mrr_changes_customer_idx ON {schema}.customer_mrr_changes (customer_id, day);
