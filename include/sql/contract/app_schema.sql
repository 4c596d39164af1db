-- The source contract (SPEC "Source tables") as tables: what the demo loads and what a user's views mirror.
-- Grain: one table per source entity; `{schema}` is the SOURCE_SCHEMA setting (default app).
CREATE SCHEMA IF NOT EXISTS {schema};

CREATE TABLE IF NOT EXISTS {schema}.customers (
    customer_id text PRIMARY KEY,
    name text NOT NULL,
    created_at timestamptz NOT NULL,
    country text,
    segment text,
    account_owner_name text,
    account_owner_email text
);

CREATE TABLE IF NOT EXISTS {schema}.users (
    user_id text PRIMARY KEY,
    customer_id text NOT NULL,
    email text NOT NULL,
    name text,
    created_at timestamptz NOT NULL,
    email_opt_out boolean NOT NULL DEFAULT false
);

CREATE TABLE IF NOT EXISTS {schema}.subscription_periods (
    subscription_id text NOT NULL,
    customer_id text NOT NULL,
    plan_id text NOT NULL,
    status text NOT NULL,
    currency text NOT NULL,
    amount_cents bigint NOT NULL,
    quantity integer NOT NULL,
    billing_interval text NOT NULL,
    interval_count integer NOT NULL,
    valid_from timestamptz NOT NULL,
    valid_to timestamptz,
    trial_ends_at timestamptz
);

CREATE TABLE IF NOT EXISTS {schema}.invoices (
    invoice_id text PRIMARY KEY,
    customer_id text NOT NULL,
    subscription_id text,
    issued_at timestamptz NOT NULL,
    due_at timestamptz,
    currency text NOT NULL,
    amount_due_cents bigint NOT NULL,
    amount_paid_cents bigint NOT NULL,
    status text NOT NULL
);

CREATE TABLE IF NOT EXISTS {schema}.payment_attempts (
    attempt_id text PRIMARY KEY,
    invoice_id text NOT NULL,
    customer_id text NOT NULL,
    attempted_at timestamptz NOT NULL,
    status text NOT NULL,
    failure_code text,
    amount_cents bigint NOT NULL
);

CREATE TABLE IF NOT EXISTS {schema}.events (
    event_id text PRIMARY KEY,
    user_id text NOT NULL,
    customer_id text NOT NULL,
    event_name text NOT NULL,
    occurred_at timestamptz NOT NULL,
    properties jsonb
);

CREATE TABLE IF NOT EXISTS {schema}.support_tickets (
    ticket_id text PRIMARY KEY,
    customer_id text NOT NULL,
    created_at timestamptz NOT NULL,
    priority text NOT NULL,
    first_response_at timestamptz,
    resolved_at timestamptz,
    csat integer
);

CREATE TABLE IF NOT EXISTS {schema}.fx_rates (
    rate_date date NOT NULL,
    currency text NOT NULL,
    rate_to_reporting numeric NOT NULL,
    PRIMARY KEY (currency, rate_date)
);
