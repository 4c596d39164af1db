-- Temporary tables of a feature build: the observation dates, and what is copied from saas_db (COPY) for
-- the time range the features look at. Dropped at the end of the transaction.
CREATE TEMP TABLE churn_obs_dates (t date PRIMARY KEY) ON COMMIT DROP;
CREATE TEMP TABLE churn_src_customers (customer_id text, created_at timestamptz) ON COMMIT DROP;
CREATE TEMP TABLE churn_src_periods (customer_id text, plan_id text, status text, billing_interval text,
                                     quantity integer, amount_cents bigint, valid_from timestamptz,
                                     valid_to timestamptz) ON COMMIT DROP;
CREATE TEMP TABLE churn_src_payments (customer_id text, day date, failed integer) ON COMMIT DROP;
CREATE TEMP TABLE churn_src_invoices (customer_id text, due_at timestamptz, paid_at timestamptz) ON COMMIT DROP;
CREATE TEMP TABLE churn_src_tickets (customer_id text, created_at timestamptz, urgent boolean,
                                     first_response_at timestamptz, resolved_at timestamptz, csat integer)
    ON COMMIT DROP;
