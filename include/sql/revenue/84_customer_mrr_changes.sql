-- customer_mrr_changes: the accounts behind mrr_daily's movements, from the pass over the source now
-- (60_movements.sql, sign +1): a restated customer's rows from its from_day, everyone's from the first new day.
DELETE FROM {schema}.customer_mrr_changes t
USING mrr_restated r
WHERE t.customer_id = r.customer_id AND t.day >= r.from_day;
DELETE FROM {schema}.customer_mrr_changes WHERE day >= %(first_new_day)s::date;
INSERT INTO {schema}.customer_mrr_changes (day, customer_id, previous_cents, mrr_cents, movement)
SELECT day, customer_id, previous_cents, mrr_cents, movement
FROM mrr_movements
WHERE sign = 1 AND movement IS NOT NULL;
