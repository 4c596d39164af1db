-- Runs on saas_db. The invoices every DAG leaves out, with the reason: an invoice_id several rows hold, or an
-- amount beyond what the pack adds up (at most 10^13 cents either way).
SELECT invoice_id::text, count(*) || ' rows hold this invoice_id: all are left out'
FROM {schema}.invoices
WHERE NOT %(key_is_unique)s AND invoice_id IS NOT NULL
GROUP BY invoice_id
HAVING count(*) > 1
UNION ALL
SELECT invoice_id::text, 'amount_due_cents ' || amount_due_cents || ' or amount_paid_cents ' || amount_paid_cents
                         || ' is beyond what the pack adds up (at most 10^13 cents)'
FROM {schema}.invoices
WHERE abs(amount_due_cents) > 1e13 OR abs(amount_paid_cents) > 1e13
