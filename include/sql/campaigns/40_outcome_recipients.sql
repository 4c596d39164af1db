-- The recipients whose outcome a run measures: every row of %(campaign)s assigned an arm (held out, or queued
-- whatever became of the email: intention to treat) on the cohort days %(first_day)s .. %(last_day)s.
CREATE TEMP TABLE camp_outcome_recipients ON COMMIT DROP AS
SELECT idempotency_key, campaign, variant, arm, day, customer_id, user_id, variables
FROM {schema}.email_sends
WHERE campaign = %(campaign)s AND day BETWEEN %(first_day)s AND %(last_day)s AND arm IS NOT NULL;
CREATE TEMP TABLE camp_outcome_rows (idempotency_key text PRIMARY KEY, converted boolean NOT NULL) ON COMMIT DROP;
CREATE TEMP TABLE camp_invoice_paid (invoice_id text PRIMARY KEY, paid_at timestamptz NOT NULL) ON COMMIT DROP;
