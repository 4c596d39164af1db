-- Unlogged work tables that receive this run's extract from saas_db (COPY): read by both build sessions
-- (mrr.build), dropped with the other work tables.
CREATE UNLOGGED TABLE {schema}.mrr_work_raw_periods (
    row_n bigint GENERATED ALWAYS AS IDENTITY,
    subscription_id text, customer_id text, status text, currency text, amount_cents numeric,
    quantity numeric, billing_interval text, interval_count numeric, valid_from timestamptz,
    valid_to timestamptz
) WITH (autovacuum_enabled = false);
CREATE UNLOGGED TABLE {schema}.mrr_work_raw_fx (rate_date date, currency text, rate_to_reporting numeric)
    WITH (autovacuum_enabled = false);
