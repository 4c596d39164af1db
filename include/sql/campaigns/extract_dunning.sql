-- Runs on saas_db. Invoices still unpaid at the end of the day with a failed payment attempt in the
-- last two weeks and no successful one: the dunning sequence. `failure_code` is the latest failure's.
SELECT i.invoice_id::text, i.customer_id, i.currency, i.amount_due_cents - i.amount_paid_cents,
       f.first_failed_at, f.failures, f.failure_code
FROM {schema}.invoices i
JOIN (SELECT invoice_id, min(attempted_at) AS first_failed_at, count(*) AS failures,
             (array_agg({failure_code} ORDER BY attempted_at DESC))[1] AS failure_code
      FROM {schema}.payment_attempts
      WHERE status = 'failed' AND attempted_at >= %(day_end)s - interval '14 days' AND attempted_at < %(day_end)s
        AND attempt_id::text <> ALL(%(quarantined_attempt_ids)s::text[])
      GROUP BY invoice_id) f USING (invoice_id)
WHERE i.status = 'open' AND i.amount_paid_cents < i.amount_due_cents
  AND i.invoice_id::text <> ALL(%(quarantined_invoice_ids)s::text[])
  AND NOT EXISTS (SELECT 1 FROM {schema}.payment_attempts p
                  WHERE p.invoice_id = i.invoice_id AND p.status = 'succeeded' AND p.attempted_at < %(day_end)s
                    AND p.attempt_id::text <> ALL(%(quarantined_attempt_ids)s::text[]))
