-- mrr_customer_first_paid: forget the firsts this run recomputed (from a restated customer's from_day, from
-- everyone's first new day; the month rows it rewrote), then record the firsts it found (a `new` movement is
-- a customer's first MRR in its series).
UPDATE {schema}.mrr_customer_first_paid s SET first_paid_day = NULL
FROM mrr_restated r
WHERE r.customer_id = s.customer_id AND s.first_paid_day >= r.from_day;
UPDATE {schema}.mrr_customer_first_paid SET first_paid_day = NULL WHERE first_paid_day >= %(first_new_day)s::date;
UPDATE {schema}.mrr_customer_first_paid s SET first_paid_month = NULL
FROM mrr_month_scope m
WHERE m.customer_id = s.customer_id AND s.first_paid_month >= m.from_month
  AND s.first_paid_month >= (SELECT min(from_month) FROM mrr_month_scope);  -- read by its index

-- One row per customer, both firsts at once.
CREATE TEMP TABLE mrr_firsts ON COMMIT DROP AS
SELECT customer_id, max(day) AS first_paid_day, max(month) AS first_paid_month
FROM (SELECT customer_id, day, NULL::date AS month FROM mrr_movements WHERE sign = 1 AND movement = 'new'
      UNION ALL
      SELECT customer_id, NULL, month FROM mrr_month_rows WHERE movement = 'new') firsts
GROUP BY customer_id;
ANALYZE mrr_firsts;

-- The customers already known are updated, the others inserted. Not one INSERT .. ON CONFLICT: that needs the
-- primary key, which a full refresh builds only once the table is loaded (windows.begin_build).
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
