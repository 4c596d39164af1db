-- Temporary tables that receive this run's extract from saas_db (COPY), in the warehouse transaction.
-- eng_raw_activity holds rows per user (feature null) and per core feature (user_id null).
CREATE TEMP TABLE eng_raw_activity (day date, customer_id text, user_id text, feature text, events bigint,
                                    last_event_at timestamptz) ON COMMIT DROP;
CREATE TEMP TABLE eng_bad_events (event_id text, reason text) ON COMMIT DROP;
CREATE TEMP TABLE eng_users (user_id text, cohort_month date) ON COMMIT DROP;
