-- Temporary tables that receive this run's extract from saas_db (COPY), in the warehouse transaction.
CREATE TEMP TABLE mrr_raw_periods (
    row_n bigint GENERATED ALWAYS AS IDENTITY,
    subscription_id text, customer_id text, status text, currency text, amount_cents numeric,
    quantity numeric, billing_interval text, interval_count numeric, valid_from timestamptz,
    valid_to timestamptz
) ON COMMIT DROP;
CREATE TEMP TABLE mrr_raw_fx (rate_date date, currency text, rate_to_reporting numeric) ON COMMIT DROP;
