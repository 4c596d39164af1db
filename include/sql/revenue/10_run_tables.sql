-- The temporary tables of a saas_mrr run that span its steps: what it reads from saas_db (by COPY), and the
-- movements its two passes over the periods add up (60_movements.sql). Dropped when the run commits.
CREATE TEMP TABLE mrr_source_buckets_now (bucket integer, fingerprint numeric, first_day date) ON COMMIT DROP;
CREATE TEMP TABLE mrr_source_fingerprints_now (customer_id text, bucket integer, fingerprint numeric)
    ON COMMIT DROP;
CREATE TEMP TABLE mrr_raw_periods (
    row_n bigint GENERATED ALWAYS AS IDENTITY,
    subscription_id text, customer_id text, status text, currency text, amount_cents numeric, quantity numeric,
    billing_interval text, interval_count numeric, valid_from timestamptz, valid_to timestamptz, plan_id text
) ON COMMIT DROP;
CREATE TEMP TABLE mrr_raw_fx (rate_date date, currency text, rate_to_reporting numeric) ON COMMIT DROP;
-- sign -1: what the stored figures counted for a restated customer; +1: what the source says now.
CREATE TEMP TABLE mrr_movements (sign integer, customer_id text, day date, previous_cents bigint, mrr_cents bigint,
                                 movement text) ON COMMIT DROP;
CREATE TEMP TABLE mrr_drift (sign integer, day date, expansion_cents bigint, contraction_cents bigint)
    ON COMMIT DROP;
-- For mrr_monthly's trial and acquisition figures (87_revenue_metrics.sql).
CREATE TEMP TABLE mrr_trials_ended (customer_id text, ended_day date) ON COMMIT DROP;
CREATE TEMP TABLE mrr_spend (month date, channel text, currency text, amount_cents numeric) ON COMMIT DROP;
-- Each customer's segment and country, for mrr_by_dimension_monthly (88_mrr_by_dimension.sql).
CREATE TEMP TABLE mrr_customer_dimensions (customer_id text PRIMARY KEY, segment text, country text) ON COMMIT DROP;
