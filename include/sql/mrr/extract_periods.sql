-- Runs on saas_db. The subscription_periods a run needs: every row in force on some day of [P, E] (P: the
-- month end before the window, the start of the first month it rewrites), plus the rows that break the
-- contract in a way that hides them from that filter, so they are reported by the run covering them.
SELECT subscription_id, customer_id, status, currency, amount_cents, quantity, billing_interval,
       interval_count, valid_from, valid_to
FROM {schema}.subscription_periods
WHERE (valid_from < %(e_next)s AND (valid_to IS NULL OR valid_to >= %(p_next)s))
   OR (valid_to < valid_from AND valid_from >= %(s_start)s AND valid_from < %(e_next)s)
   OR valid_from IS NULL
