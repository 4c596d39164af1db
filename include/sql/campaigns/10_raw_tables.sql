-- Temporary tables of a campaign run: what is copied from saas_db (COPY), the accounts a campaign may
-- write to, and every campaign's candidates. Dropped at the end of the transaction.
-- `address` (the normal form) and `unusable` (why not to email them) are set in Python (untrusted.py).
CREATE TEMP TABLE camp_customers (customer_id text, name text, created_at timestamptz, account_owner_name text,
                                  unusable text) ON COMMIT DROP;
CREATE TEMP TABLE camp_trials (subscription_id text, customer_id text, valid_from timestamptz,
                               trial_ends_at timestamptz) ON COMMIT DROP;
CREATE TEMP TABLE camp_dunning (invoice_id text, customer_id text, currency text, amount_cents bigint,
                                first_failed_at timestamptz, failures integer, failure_code text) ON COMMIT DROP;
CREATE TEMP TABLE camp_users (user_id text, customer_id text, email text, name text, created_at timestamptz,
                              email_opt_out boolean, address text, unusable text) ON COMMIT DROP;
-- One row per campaign and account (user_id null: the account's first user gets it) or user.
CREATE TEMP TABLE camp_candidates (campaign text, customer_id text, user_id text, period_key text, facts jsonb)
    ON COMMIT DROP;
