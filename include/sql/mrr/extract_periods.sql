-- Runs on saas_db. The subscription_periods a run needs: every row in force on some day of [S-1, E] (the
-- day before the window gives each day's `previous`), plus the rows that break the contract in a way that
-- hides them from that filter, so they are reported by the run covering them.
-- A run that reuses the stored month rows (%(reuses_month_rows)s, see mrr.Window) needs only the customers
-- whose MRR can have moved: a period of theirs starts or ends inside the window, or is in a foreign
-- currency (revalued every day). Everyone else's figures are the stored ones. One scan of the table.
WITH candidates AS MATERIALIZED (
    SELECT subscription_id, customer_id, status, currency, amount_cents, quantity, billing_interval,
           interval_count, valid_from, valid_to,
           coalesce(valid_from < %(e_next)s AND (valid_to IS NULL OR valid_to >= %(s_start)s), false) AS in_window
    FROM {schema}.subscription_periods
    WHERE (valid_from < %(e_next)s AND (valid_to IS NULL OR valid_to >= %(s_start)s))
       OR valid_from IS NULL
       OR (valid_to < valid_from AND valid_from >= %(s_start)s AND valid_from < %(e_next)s)
), moving AS (
    SELECT DISTINCT customer_id
    FROM candidates
    WHERE in_window
      AND (valid_from >= %(s_start)s OR valid_to < %(e_next)s OR upper(currency) IS DISTINCT FROM %(reporting)s)
)
SELECT subscription_id, customer_id, status, currency, amount_cents, quantity, billing_interval,
       interval_count, valid_from, valid_to
FROM candidates
WHERE NOT %(reuses_month_rows)s OR NOT in_window OR customer_id IS NULL
UNION ALL
SELECT c.subscription_id, c.customer_id, c.status, c.currency, c.amount_cents, c.quantity, c.billing_interval,
       c.interval_count, c.valid_from, c.valid_to
FROM candidates c
JOIN moving m ON m.customer_id = c.customer_id
WHERE %(reuses_month_rows)s AND c.in_window
