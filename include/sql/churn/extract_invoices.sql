-- Runs on saas_db. Invoices due in the 90 days before any observation date, with the time of their first
-- successful payment. Whether one was overdue at t is decided from that time, never from today's status
-- (an invoice overdue at t and paid since must still count as overdue at t).
SELECT i.customer_id, coalesce({due_at}, i.issued_at), p.paid_at
FROM {schema}.invoices i
LEFT JOIN (SELECT invoice_id, min(attempted_at) AS paid_at FROM {schema}.payment_attempts
           WHERE status = 'succeeded' AND attempted_at >= %(first_t)s::date - 120
             AND attempt_id::text <> ALL(%(quarantined_attempt_ids)s::text[])
           GROUP BY 1) p USING (invoice_id)
WHERE coalesce({due_at}, i.issued_at) >= %(first_t)s::date - 90 AND coalesce({due_at}, i.issued_at) < %(last_t)s
  AND i.issued_at >= %(first_t)s::date - 120 AND i.amount_due_cents > 0
  AND i.invoice_id::text <> ALL(%(quarantined_invoice_ids)s::text[])
