-- failed_payment: dunning for an unpaid invoice with a failed attempt. Steps on day 0, 3 and 7 after the
-- first failure, counted to the sending day (the day + 1); a missed run sends the latest step that is due. The
-- sequence stops as soon as the invoice is paid (extract_dunning.sql reads only unpaid ones).
SELECT d.customer_id, NULL::text, d.invoice_id || ':day' || step.n,
       jsonb_build_object(
           'step', step.n,
           'invoice_id', d.invoice_id,
           'amount_cents', d.amount_cents,
           'currency', d.currency,
           'failed_on', d.first_failed_at::date,
           'failures', d.failures,
           'failure_code', d.failure_code,
           'suspend_on', d.first_failed_at::date + %(suspend_days)s)
FROM camp_dunning d
CROSS JOIN LATERAL (SELECT max(n) AS n FROM unnest(ARRAY[0, 3, 7]) n
                    WHERE n <= %(send_day)s::date - d.first_failed_at::date) step
WHERE %(send_day)s::date - d.first_failed_at::date <= 9
