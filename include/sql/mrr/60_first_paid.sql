-- Bring mrr_customer_first_paid up to date: forget what the window recomputed, then record the window's
-- firsts (a `new` movement is a customer's first MRR in its series).
UPDATE {schema}.mrr_customer_first_paid SET first_paid_day = NULL WHERE first_paid_day >= %(s_day)s::date;
UPDATE {schema}.mrr_customer_first_paid SET first_paid_month = NULL
WHERE first_paid_month >= date_trunc('month', %(s_day)s::date)
  AND (NOT %(reuses_month_rows)s OR customer_id IN (SELECT customer_id FROM {schema}.mrr_work_affected));

-- One row per customer, both firsts at once (two passes would write most rows twice).
CREATE TEMP TABLE mrr_firsts ON COMMIT DROP AS
SELECT customer_id, max(day) AS first_paid_day, max(month) AS first_paid_month
FROM (SELECT customer_id, day, NULL::date AS month FROM {schema}.mrr_work_movements WHERE movement = 'new'
      UNION ALL
      SELECT customer_id, NULL, month FROM mrr_customer_months WHERE movement = 'new') firsts
GROUP BY customer_id;
ANALYZE mrr_firsts;

-- The customers already known are updated, the others inserted. Not one INSERT .. ON CONFLICT: that needs
-- the primary key, which a full refresh builds only once the table is loaded (windows.begin_build; at 1M
-- customers the upsert took 12 s, 10 of them keeping three indexes up to date row by row).
UPDATE {schema}.mrr_customer_first_paid s
SET first_paid_day = coalesce(f.first_paid_day, s.first_paid_day),
    first_paid_month = coalesce(f.first_paid_month, s.first_paid_month)
FROM mrr_firsts f
WHERE f.customer_id = s.customer_id;
INSERT INTO {schema}.mrr_customer_first_paid (customer_id, first_paid_day, first_paid_month)
SELECT customer_id, first_paid_day, first_paid_month
FROM mrr_firsts f
WHERE NOT EXISTS (SELECT 1 FROM {schema}.mrr_customer_first_paid s WHERE s.customer_id = f.customer_id);

DELETE FROM {schema}.mrr_customer_first_paid WHERE first_paid_day IS NULL AND first_paid_month IS NULL;
