-- customer_mrr_monthly: the rows of mrr_month_scope's customers from their from month on are replaced by
-- mrr_month_rows where they differ. What is taken out (-1) and put in (+1) is kept in mrr_month_changes: it
-- moves mrr_monthly's sums (82_mrr_monthly.sql) and says which months a restatement changed.
CREATE TEMP TABLE mrr_month_changes ON COMMIT DROP AS
SELECT -1 AS sign, t.month, t.customer_id, t.mrr_cents, t.previous_mrr_cents, t.movement
FROM {schema}.customer_mrr_monthly t
JOIN mrr_month_scope s ON s.customer_id = t.customer_id AND t.month >= s.from_month
WHERE t.month >= (SELECT min(from_month) FROM mrr_month_scope)  -- lets the table be read by its key's months
  AND NOT EXISTS (SELECT 1 FROM mrr_month_rows n
                  WHERE n.customer_id = t.customer_id AND n.month = t.month AND n.mrr_cents = t.mrr_cents
                    AND n.previous_cents = t.previous_mrr_cents AND n.movement IS NOT DISTINCT FROM t.movement)
UNION ALL
SELECT 1, n.month, n.customer_id, n.mrr_cents, n.previous_cents, n.movement
FROM mrr_month_rows n
WHERE NOT EXISTS (SELECT 1 FROM {schema}.customer_mrr_monthly t
                  WHERE t.customer_id = n.customer_id AND t.month = n.month AND t.mrr_cents = n.mrr_cents
                    AND t.previous_mrr_cents = n.previous_cents AND t.movement IS NOT DISTINCT FROM n.movement
                    AND t.month >= (SELECT min(from_month) FROM mrr_month_scope));
ANALYZE mrr_month_changes;

-- A key in both is updated in place (customer_mrr_monthly keeps room on its pages: the update stays on the
-- page and its key needs no new index entry), a key only taken out is deleted, a key only put in is inserted.
UPDATE {schema}.customer_mrr_monthly t
SET mrr_cents = n.mrr_cents, previous_mrr_cents = n.previous_mrr_cents, movement = n.movement
FROM mrr_month_changes n
WHERE NOT %(full_refresh)s AND n.sign = 1 AND t.month = n.month AND t.customer_id = n.customer_id
  AND t.month >= (SELECT min(from_month) FROM mrr_month_scope);
DELETE FROM {schema}.customer_mrr_monthly t
USING mrr_month_changes o
WHERE NOT %(full_refresh)s AND o.sign = -1 AND t.month = o.month AND t.customer_id = o.customer_id
  AND t.month >= (SELECT min(from_month) FROM mrr_month_scope)
  AND NOT EXISTS (SELECT 1 FROM mrr_month_changes n WHERE n.sign = 1 AND n.month = o.month
                  AND n.customer_id = o.customer_id);
-- In month order, so that each month's rows sit together on disk (a daily run, mrr_monthly and the bridge
-- check read one month).
INSERT INTO {schema}.customer_mrr_monthly (month, customer_id, mrr_cents, previous_mrr_cents, movement)
SELECT month, customer_id, mrr_cents, previous_mrr_cents, movement
FROM mrr_month_changes n
WHERE sign = 1 AND NOT EXISTS (SELECT 1 FROM mrr_month_changes o WHERE o.sign = -1 AND o.month = n.month
                               AND o.customer_id = n.customer_id)
ORDER BY month;
