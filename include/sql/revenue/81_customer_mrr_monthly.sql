-- customer_mrr_monthly: the rows of mrr_month_scope's customers from their from month on are replaced by
-- mrr_month_rows.

-- Deleted, found by the table's key: a restatement's rows of months before the day's (few: written again
-- below), and any other row no longer there.
DELETE FROM {schema}.customer_mrr_monthly t
USING (SELECT o.month, o.customer_id
       FROM mrr_month_stored o
       WHERE o.replaced AND (o.month < date_trunc('month', %(day)s::date)
                             OR NOT EXISTS (SELECT 1 FROM mrr_month_rows n
                                            WHERE n.month = o.month AND n.customer_id = o.customer_id))) gone
WHERE t.month = gone.month AND t.customer_id = gone.customer_id;

-- Written: those rows of earlier months; on a full refresh (an empty table, its key built afterwards:
-- windows.begin_build) every row, in month order, so that each month's rows sit together on disk (a daily run,
-- mrr_monthly and the bridge check read one month).
INSERT INTO {schema}.customer_mrr_monthly (month, customer_id, mrr_cents, previous_mrr_cents, movement, plan_id,
                                            billing_interval, segment, country)
SELECT month, customer_id, r.mrr_cents, r.previous_cents, r.movement, d.plan_id, d.billing_interval, d.segment,
       d.country
FROM mrr_month_rows r
JOIN mrr_month_dimensions d USING (month, customer_id)
WHERE %(full_refresh)s OR month < date_trunc('month', %(day)s::date)
ORDER BY month;

-- The day's month (a daily run's many rows): a row that differs is updated in place (the table keeps
-- room on its pages: the update stays on the page and needs no new index entry), a new one inserted.
MERGE INTO {schema}.customer_mrr_monthly t
USING (SELECT * FROM mrr_month_rows JOIN mrr_month_dimensions USING (month, customer_id)
       WHERE NOT %(full_refresh)s AND month = date_trunc('month', %(day)s::date)) n
    ON t.month = n.month AND t.customer_id = n.customer_id AND t.month = date_trunc('month', %(day)s::date)
WHEN MATCHED AND (t.mrr_cents, t.previous_mrr_cents, t.movement, t.plan_id, t.billing_interval, t.segment, t.country)
                 IS DISTINCT FROM (n.mrr_cents, n.previous_cents, n.movement, n.plan_id, n.billing_interval,
                                   n.segment, n.country) THEN
    UPDATE SET mrr_cents = n.mrr_cents, previous_mrr_cents = n.previous_cents, movement = n.movement,
               plan_id = n.plan_id, billing_interval = n.billing_interval, segment = n.segment, country = n.country
WHEN NOT MATCHED THEN
    INSERT (month, customer_id, mrr_cents, previous_mrr_cents, movement, plan_id, billing_interval, segment, country)
    VALUES (n.month, n.customer_id, n.mrr_cents, n.previous_cents, n.movement, n.plan_id, n.billing_interval,
            n.segment, n.country);
