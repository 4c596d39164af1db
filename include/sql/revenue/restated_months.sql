-- What this run's restatement changed: each month where a row of a restated customer changed, and the change of
-- its MRR (rows put in minus rows taken out).
WITH new_rows AS (
    SELECT month, customer_id, mrr_cents, previous_cents, movement FROM mrr_month_rows
    WHERE customer_id IN (SELECT customer_id FROM mrr_restated)
), old_rows AS (
    SELECT month, customer_id, mrr_cents, previous_mrr_cents, movement FROM mrr_month_stored
    WHERE replaced AND customer_id IN (SELECT customer_id FROM mrr_restated)
)
SELECT month, sum(sign * mrr_cents)::bigint AS mrr_change_cents
FROM (SELECT 1 AS sign, * FROM (SELECT * FROM new_rows EXCEPT ALL SELECT * FROM old_rows) put_in
      UNION ALL
      SELECT -1, * FROM (SELECT * FROM old_rows EXCEPT ALL SELECT * FROM new_rows) taken_out) c
GROUP BY month
ORDER BY month
