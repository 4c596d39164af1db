-- Bring mrr_customer_first_paid up to date: forget what the window recomputed, then record the window's
-- firsts (a `new` movement is a customer's first MRR in its series).
UPDATE {schema}.mrr_customer_first_paid SET first_paid_day = NULL WHERE first_paid_day >= %(s_day)s::date;
UPDATE {schema}.mrr_customer_first_paid SET first_paid_month = NULL
WHERE first_paid_month >= date_trunc('month', %(s_day)s::date)
  AND (NOT %(reuses_month_rows)s OR customer_id IN (SELECT customer_id FROM mrr_affected));

-- One row per customer, both firsts at once (two passes would write most rows twice).
INSERT INTO {schema}.mrr_customer_first_paid AS s (customer_id, first_paid_day, first_paid_month)
SELECT customer_id, max(day), max(month)
FROM (SELECT customer_id, day, NULL::date AS month FROM mrr_customer_movements WHERE movement = 'new'
      UNION ALL
      SELECT customer_id, NULL, month FROM mrr_customer_months WHERE movement = 'new') firsts
GROUP BY customer_id
ON CONFLICT (customer_id) DO UPDATE
SET first_paid_day = coalesce(excluded.first_paid_day, s.first_paid_day),
    first_paid_month = coalesce(excluded.first_paid_month, s.first_paid_month);

DELETE FROM {schema}.mrr_customer_first_paid WHERE first_paid_day IS NULL AND first_paid_month IS NULL;
