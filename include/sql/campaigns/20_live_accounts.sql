-- Accounts paying (MRR > 0 at the end of the day, from customer_mrr_monthly's row of that month) or
-- trialing then: the only accounts the activity campaigns write to.
CREATE TEMP TABLE camp_live_accounts ON COMMIT DROP AS
SELECT customer_id, min(state) AS state  -- paying before trialing
FROM (SELECT customer_id, 'paying' AS state FROM {schema}.customer_mrr_monthly
      WHERE month = date_trunc('month', %(day)s::date)::date AND mrr_cents > 0
      UNION ALL
      SELECT customer_id, 'trialing' FROM camp_trials) s
GROUP BY customer_id;
ALTER TABLE camp_live_accounts ADD PRIMARY KEY (customer_id);
ANALYZE camp_live_accounts;
