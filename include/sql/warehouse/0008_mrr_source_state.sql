-- saas_mrr's memory of what its figures were built from (added by issue 20), so that every run can tell
-- what changed in subscription_periods and fx_rates since, anywhere in history, and restate exactly that.

-- Per customer, a fingerprint of its subscription_periods rows: the sum of a 64-bit hash of each row; and per
-- bucket (one of 65,536 groups of customers, by a hash of customer_id), the sum of its customers'. A run
-- compares the buckets with the source's, then the customers of the buckets that moved, and reads again the
-- rows of the customers whose fingerprint moved.
CREATE TABLE {schema}.mrr_source_fingerprints (
    customer_id text PRIMARY KEY,           -- '' for the rows without a customer_id
    bucket integer NOT NULL,
    fingerprint numeric NOT NULL
);
CREATE INDEX mrr_source_fingerprints_bucket_idx ON {schema}.mrr_source_fingerprints (bucket);
CREATE TABLE {schema}.mrr_source_buckets (
    bucket integer PRIMARY KEY,
    fingerprint numeric NOT NULL
);

-- The paying periods the figures were built from: the source's rows that keep the contract, cut where two
-- periods of one subscription overlap. MRR = round(mrr_num * rate / mrr_den) on each day of
-- [first_day, end_day), at the day's rate of `currency`.
CREATE TABLE {schema}.mrr_paying_periods (
    customer_id text NOT NULL,
    currency text NOT NULL,
    mrr_num numeric NOT NULL,
    mrr_den numeric NOT NULL,
    first_day date NOT NULL,
    end_day date                            -- null: still in force
);
CREATE INDEX mrr_paying_periods_customer_idx ON {schema}.mrr_paying_periods (customer_id);
CREATE INDEX mrr_paying_periods_first_day_idx ON {schema}.mrr_paying_periods (first_day);
CREATE INDEX mrr_paying_periods_end_day_idx ON {schema}.mrr_paying_periods (end_day);

-- The fx_rates the figures were built from (the rows that keep the contract).
CREATE TABLE {schema}.mrr_fx_rates (
    currency text NOT NULL,
    rate_date date NOT NULL,
    rate numeric NOT NULL,
    PRIMARY KEY (currency, rate_date)
);

-- mrr_monthly keeps the sums its rates come from, so that a run that rewrites some customers' month rows
-- moves each month's figures by exactly those rows.
ALTER TABLE {schema}.mrr_monthly
    ADD COLUMN churned_customers integer NOT NULL DEFAULT 0,     -- movement churn
    ADD COLUMN paying_at_start integer NOT NULL DEFAULT 0,       -- previous_mrr_cents > 0
    ADD COLUMN mrr_at_start_cents bigint NOT NULL DEFAULT 0,     -- sum of previous_mrr_cents
    ADD COLUMN retained_mrr_cents bigint NOT NULL DEFAULT 0;     -- sum of mrr_cents where previous_mrr_cents > 0

-- A daily run rewrites the current month's row of every account whose MRR follows a rate: room on each page
-- lets those updates stay on their page, with no new index entry (applies to pages written from now on).
ALTER TABLE {schema}.customer_mrr_monthly SET (fillfactor = 80);
