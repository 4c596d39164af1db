-- Indexes the pack's reads want on the source (README "Connecting your own database" lists them).
-- Created after a bulk load: building them once is faster than maintaining them row by row.
CREATE INDEX IF NOT EXISTS events_occurred_at_idx ON {schema}.events (occurred_at);
CREATE INDEX IF NOT EXISTS events_customer_occurred_idx ON {schema}.events (customer_id, occurred_at);
CREATE INDEX IF NOT EXISTS subscription_periods_customer_idx ON {schema}.subscription_periods (customer_id, valid_from);
CREATE INDEX IF NOT EXISTS users_customer_idx ON {schema}.users (customer_id);
CREATE INDEX IF NOT EXISTS invoices_customer_idx ON {schema}.invoices (customer_id, issued_at);
CREATE INDEX IF NOT EXISTS payment_attempts_customer_idx ON {schema}.payment_attempts (customer_id, attempted_at);
CREATE INDEX IF NOT EXISTS support_tickets_customer_idx ON {schema}.support_tickets (customer_id, created_at);
